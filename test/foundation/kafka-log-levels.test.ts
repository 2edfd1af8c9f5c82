import { logLevel } from 'kafkajs';
import { kafkaLogLevels, STARTUP_WINDOW_MS } from '../../common/kafka/log-levels';

/** The entries below have the shapes kafkajs 2.2.4 logs (network/connection.js, consumer/index.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' untyped internal error table, as log-levels.ts reads it
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => Error;
};
const brokerText = (code: number): string => createErrorFromCode(code).message;
const response = (code: number) => ({
  message: 'Response FindCoordinator(key: 10, version: 2)',
  error: brokerText(code),
  correlationId: 3,
  size: 40,
});
const crash = (name: string, text: string, groupId = 'g') => ({
  message: `Crash: ${name}: ${text}`,
  groupId,
  retryCount: 8,
  stack: '...',
});
const restart = (groupId = 'g') => ({
  message: 'Restarting the consumer in 300ms',
  retryCount: 8,
  retryTime: 300,
  groupId,
});

const GROUP_LOAD_IN_PROGRESS = 14;
const GROUP_COORDINATOR_NOT_AVAILABLE = 15;
const NOT_COORDINATOR_FOR_GROUP = 16;
const MESSAGE_TOO_LARGE = 10;
const REBALANCE_IN_PROGRESS = 27;

describe("kafkajs' log levels", () => {
  it("puts a fresh broker's coordinator answers at debug, told by their Kafka error code", () => {
    const levelOf = kafkaLogLevels();
    for (const code of [GROUP_LOAD_IN_PROGRESS, GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP]) {
      expect(levelOf(logLevel.ERROR, response(code))).toBe('debug');
    }
    expect(brokerText(GROUP_COORDINATOR_NOT_AVAILABLE)).toBe('The group coordinator is not available');
  });

  it('puts the consumer crash those cause, and only the restart after it, at debug', () => {
    const levelOf = kafkaLogLevels();
    expect(levelOf(logLevel.ERROR, restart('g'))).toBe('error'); // no start-up crash before it
    expect(
      levelOf(logLevel.ERROR, crash('KafkaJSNumberOfRetriesExceeded', brokerText(GROUP_LOAD_IN_PROGRESS), 'g')),
    ).toBe('debug');
    expect(levelOf(logLevel.ERROR, restart('other'))).toBe('error'); // another group's restart
    expect(levelOf(logLevel.ERROR, restart('g'))).toBe('debug');
    expect(levelOf(logLevel.ERROR, restart('g'))).toBe('error'); // once per crash
    expect(
      levelOf(logLevel.ERROR, crash('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator', 'h')),
    ).toBe('debug');
    expect(levelOf(logLevel.ERROR, restart('h'))).toBe('debug');
  });

  it('keeps every other error an error: other codes, other crashes, anything about the app', () => {
    const levelOf = kafkaLogLevels();
    expect(levelOf(logLevel.ERROR, response(MESSAGE_TOO_LARGE))).toBe('error');
    expect(
      levelOf(
        logLevel.ERROR,
        crash('KafkaJSNumberOfRetriesExceeded', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      ),
    ).toBe('error');
    expect(levelOf(logLevel.ERROR, restart())).toBe('error');
    expect(levelOf(logLevel.ERROR, crash('KafkaJSError', 'boom'))).toBe('error');
    expect(
      levelOf(logLevel.ERROR, { message: 'Error when calling eachMessage', error: brokerText(GROUP_LOAD_IN_PROGRESS) }),
    ).toBe('error');
    // Free text that merely mentions a coordinator is not one of the known answers.
    expect(levelOf(logLevel.ERROR, { message: 'Response JoinGroup', error: 'the coordinator is loading, maybe' })).toBe(
      'error',
    );
    expect(levelOf(logLevel.WARN, { message: 'The group is rebalancing, re-joining' })).toBe('warn');
    expect(levelOf(logLevel.INFO, { message: 'Consumer has joined the group' })).toBe('info');
  });

  it('puts a rebalance answer at debug at any time: replicas joining and leaving are routine', () => {
    let now = 1_000_000;
    const levelOf = kafkaLogLevels(() => now);
    const syncGroup = {
      message: 'Response SyncGroup(key: 14, version: 3)',
      error: brokerText(REBALANCE_IN_PROGRESS),
      correlationId: 2,
      size: 14,
    };
    expect(levelOf(logLevel.ERROR, syncGroup)).toBe('debug');
    now += STARTUP_WINDOW_MS + 1;
    expect(levelOf(logLevel.ERROR, syncGroup)).toBe('debug');
    expect(
      levelOf(logLevel.ERROR, { message: 'Error when calling eachBatch', error: brokerText(REBALANCE_IN_PROGRESS) }),
    ).toBe('error');
  });

  it('stops treating them as start-up noise once the start-up window has passed', () => {
    let now = 1_000_000;
    const levelOf = kafkaLogLevels(() => now);
    expect(levelOf(logLevel.ERROR, response(GROUP_COORDINATOR_NOT_AVAILABLE))).toBe('debug');
    now += STARTUP_WINDOW_MS + 1;
    expect(levelOf(logLevel.ERROR, response(GROUP_COORDINATOR_NOT_AVAILABLE))).toBe('error');
    expect(levelOf(logLevel.ERROR, crash('KafkaJSNumberOfRetriesExceeded', brokerText(GROUP_LOAD_IN_PROGRESS)))).toBe(
      'error',
    );
  });
});
