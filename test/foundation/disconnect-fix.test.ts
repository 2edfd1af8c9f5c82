import { EventEmitter } from 'node:events';
import { KafkaJSConnectionError } from 'kafkajs';
import { fixKafkajsDisconnect } from '../../common/kafka/disconnect-fix';

/**
 * kafkajs' own `Connection` on a socket that stands in for a broker's: it records what is written
 * and answers only when the test feeds it bytes, so the request that kafkajs 2.2.4 leaves behind
 * on disconnect can be made to happen at will. Timers are jest's, so "never settles" is checked
 * past the request timeout without waiting for it.
 */
interface Request {
  entry: object;
  expectResponse: boolean;
  sendRequest(): void;
}
interface Connection {
  connectionStatus: string;
  requestQueue: { push(request: Request): void };
  connect(): Promise<boolean>;
  disconnect: (this: Connection) => Promise<boolean>;
}
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' private parts, as the fix reaches them */
const ConnectionClass = require('kafkajs/src/network/connection') as {
  new (options: object): Connection;
  prototype: Connection;
};
const { createLogger, LEVELS } = require('kafkajs/src/loggers') as {
  createLogger: (o: object) => object;
  LEVELS: { NOTHING: number };
};
/* eslint-enable @typescript-eslint/no-require-imports */
const shippedDisconnect = ConnectionClass.prototype.disconnect;

const REQUEST_TIMEOUT_MS = 1_000;

class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  ended = false;
  write(data: Buffer): boolean {
    this.written.push(data);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  unref(): void {}
}

async function connected(): Promise<{ connection: Connection; socket: FakeSocket }> {
  const socket = new FakeSocket();
  const connection = new ConnectionClass({
    host: 'broker',
    port: 9092,
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }),
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: 1_000,
    socketFactory: ({ onConnect }: { onConnect: () => void }) => {
      void Promise.resolve().then(onConnect); // once kafkajs has attached its listeners (jest fakes queueMicrotask)
      return socket;
    },
  });
  await connection.connect();
  return { connection, socket };
}

type Outcome = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };
function watch(promise: Promise<unknown>): { readonly now: Outcome } {
  let now: Outcome = { state: 'pending' };
  promise.then(
    () => (now = { state: 'resolved' }),
    (error: unknown) => (now = { state: 'rejected', error }),
  );
  return {
    get now() {
      return now;
    },
  };
}

/** Pushes a request as `Connection.send` does once its encoding is done; settles as kafkajs settles it. */
function request(connection: Connection, socket: FakeSocket, correlationId: number): Promise<unknown> {
  return new Promise((resolve, reject) =>
    connection.requestQueue.push({
      entry: { apiKey: 18, apiName: 'ApiVersions', apiVersion: 0, correlationId, resolve, reject },
      expectResponse: true,
      sendRequest: () => socket.write(Buffer.from([correlationId])),
    }),
  );
}

/** A response frame: its size, then the correlation id it answers, then an empty body. */
function response(correlationId: number): Buffer {
  const frame = Buffer.alloc(8);
  frame.writeInt32BE(4, 0);
  frame.writeInt32BE(correlationId, 4);
  return frame;
}

/** Disconnects, and sends a request in the microtask before kafkajs stops the request timeout check. */
function disconnectWithRequestInTheGap(connection: Connection, socket: FakeSocket) {
  const disconnecting = watch(connection.disconnect());
  // Still DISCONNECTING, which counts as connected: a send that got here is written.
  expect(connection.connectionStatus).toBe('disconnecting');
  return { disconnecting, leftOver: watch(request(connection, socket, 7)) };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('as shipped, a request sent as disconnect begins never settles, and the next disconnect never ends (what the fix removes)', async () => {
  const { connection, socket } = await connected();
  connection.disconnect = shippedDisconnect; // on the instance: whatever the prototype holds by now
  const { disconnecting, leftOver } = disconnectWithRequestInTheGap(connection, socket);
  await jest.advanceTimersByTimeAsync(0);
  expect(disconnecting.now.state).toBe('resolved');
  expect(socket.written).toHaveLength(1);
  expect(socket.ended).toBe(true);

  await jest.advanceTimersByTimeAsync(10 * REQUEST_TIMEOUT_MS);
  expect(leftOver.now.state).toBe('pending');
  const again = watch(connection.disconnect()); // what the socket's end triggers in kafkajs
  await jest.advanceTimersByTimeAsync(10 * REQUEST_TIMEOUT_MS);
  expect(again.now.state).toBe('pending');
  expect(connection.connectionStatus).toBe('disconnecting');
});

describe('with the fix', () => {
  beforeAll(() => expect(fixKafkajsDisconnect()).toBe(true));

  test('installing twice is harmless', () => {
    expect(fixKafkajsDisconnect()).toBe(true);
  });

  test('a request sent as disconnect begins is rejected as kafkajs rejects those of a closed socket, and the next disconnect ends', async () => {
    const { connection, socket } = await connected();
    const { disconnecting, leftOver } = disconnectWithRequestInTheGap(connection, socket);
    await jest.advanceTimersByTimeAsync(0);
    expect(disconnecting.now.state).toBe('resolved');
    const outcome = leftOver.now;
    expect(outcome.state).toBe('rejected');
    if (outcome.state !== 'rejected') return;
    expect(outcome.error).toBeInstanceOf(KafkaJSConnectionError);
    expect(outcome.error).toMatchObject({
      name: 'KafkaJSConnectionClosedError',
      retriable: true,
      host: 'broker',
      port: 9092,
      broker: 'broker:9092',
      message: 'Closed connection',
    });

    const again = watch(connection.disconnect());
    await jest.advanceTimersByTimeAsync(0);
    expect(again.now.state).toBe('resolved');
    expect(connection.connectionStatus).toBe('disconnected');
  });

  test('a request in flight when disconnect begins still gets its answer, and disconnect waits for it', async () => {
    const { connection, socket } = await connected();
    const answered = watch(request(connection, socket, 3));
    const disconnecting = watch(connection.disconnect());
    await jest.advanceTimersByTimeAsync(0);
    expect(disconnecting.now.state).toBe('pending');

    socket.emit('data', response(3));
    await jest.advanceTimersByTimeAsync(0);
    expect(answered.now.state).toBe('resolved');
    expect(disconnecting.now.state).toBe('resolved');
    expect(connection.connectionStatus).toBe('disconnected');
  });

  test('a request in flight that is never answered still times out, and disconnect then ends', async () => {
    const { connection, socket } = await connected();
    const unanswered = watch(request(connection, socket, 4));
    const disconnecting = watch(connection.disconnect());
    await jest.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS + 100);
    expect(unanswered.now).toMatchObject({ state: 'rejected', error: { name: 'KafkaJSRequestTimeoutError' } });
    expect(disconnecting.now.state).toBe('resolved');
  });
});
