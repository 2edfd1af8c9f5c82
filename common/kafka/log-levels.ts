import { logLevel } from 'kafkajs';

export type Level = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Record<number, Level> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

interface BrokerError {
  type: string;
  code: number;
  retriable: boolean;
  message: string;
}
// kafkajs' own table of broker error codes (its typings leave it out). kafkajs logs only an
// error's text, so the text is looked up here: a case is recognised by its Kafka error type.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped internal module: require keeps its cast in one visible place
const { errorCodes } = require('kafkajs/src/protocol/error') as { errorCodes: BrokerError[] };

/**
 * What a fresh broker answers while it elects group coordinators and loads their state, and what
 * a member hears while a coordinator moves: retriable, and kafkajs retries each one itself.
 */
const STARTUP_ERROR_TYPES: ReadonlySet<string> = new Set([
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);
const STARTUP_MESSAGES = new Set(
  errorCodes.filter((e) => e.retriable && STARTUP_ERROR_TYPES.has(e.type)).map((e) => e.message),
);
/**
 * What a member hears whenever another replica joins or leaves its group: kafkajs rejoins by
 * itself and logs its own WARN line ("The group is rebalancing, re-joining"), so the broker's
 * answer is debug at any time; with several replicas it is routine, not an error.
 */
const REBALANCE_MESSAGES = new Set(errorCodes.filter((e) => e.type === 'REBALANCE_IN_PROGRESS').map((e) => e.message));
/** The consumer gives up looking for a coordinator this way (no broker error code to go by). */
const STARTUP_CRASHES = new Set(['KafkaJSGroupCoordinatorNotFound']);

/** Past this, the same answers are no longer the broker starting up and stay errors. */
export const STARTUP_WINDOW_MS = 60_000;

/**
 * kafkajs' level for each log line, except that within STARTUP_WINDOW_MS of the client's creation
 * the retries of a fresh broker's start (listed above) are debug: a healthy start logs no error.
 * Any other error, and any error later on, keeps its level.
 */
export function kafkaLogLevels(now: () => number = Date.now): (level: number, entry: Record<string, unknown>) => Level {
  const createdAt = now();
  const expectedRestarts = new Set<string>();
  return (level, entry) => {
    const base = LEVELS[level] ?? 'info';
    if (base === 'error' && isRebalanceAnswer(entry)) return 'debug';
    if (base !== 'error' || now() - createdAt > STARTUP_WINDOW_MS) return base;
    return isStartupRetry(entry, expectedRestarts) ? 'debug' : 'error';
  };
}

const isRebalanceAnswer = (entry: Record<string, unknown>): boolean =>
  typeof entry.error === 'string' &&
  String(entry.message).startsWith('Response ') &&
  REBALANCE_MESSAGES.has(entry.error);

/** The three shapes kafkajs logs these in: a broker's error response, the consumer's crash, its restart after that crash. */
function isStartupRetry(entry: Record<string, unknown>, expectedRestarts: Set<string>): boolean {
  const message = String(entry.message);
  const groupId = typeof entry.groupId === 'string' ? entry.groupId : undefined;
  if (typeof entry.error === 'string' && message.startsWith('Response ')) return STARTUP_MESSAGES.has(entry.error);
  const crash = crashOf(message);
  if (crash) {
    const expected = STARTUP_CRASHES.has(crash.name) || STARTUP_MESSAGES.has(crash.message);
    if (groupId && expected) expectedRestarts.add(groupId);
    return expected;
  }
  // Only the restart that follows a start-up crash of the same group.
  return message.startsWith('Restarting the consumer in ') && groupId !== undefined && expectedRestarts.delete(groupId);
}

/** `Crash: <error name>: <error message>`, as kafkajs' consumer logs it. */
function crashOf(message: string): { name: string; message: string } | undefined {
  const match = /^Crash: (KafkaJS\w+): (.*)$/s.exec(message);
  return match ? { name: match[1]!, message: match[2]! } : undefined;
}
