import {
  PATCHED_KAFKAJS_VERSION,
  fixKafkajsIdleTimer,
  installedKafkajsVersion,
} from '../../common/kafka/request-queue-fix';

/**
 * kafkajs' own RequestQueue (one per broker connection), driven with jest's fake timers: as
 * shipped, a queue with nothing waiting re-arms a timer every millisecond for as long as its
 * connection is open; with the fix it arms one only for a request that waits.
 */
interface Queue {
  pending: unknown[];
  throttleCheckTimeoutId: unknown;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests: (this: Queue) => void;
  maybeThrottle(ms: number): void;
  push(request: object): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as { new (options: object): Queue; prototype: Queue };
const shipped = RequestQueue.prototype.scheduleCheckPendingRequests;

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const newQueue = (maxInFlightRequests?: number): Queue =>
  new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, clientId: 'test', broker: 'b:9092', logger: quiet });

/** A request the queue hands to the socket by calling `sendRequest`; `sent` records the order. */
function request(correlationId: number, sent: number[]): object {
  return {
    entry: { correlationId, apiKey: 0, apiName: 'Produce', apiVersion: 7, resolve: () => undefined },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('the kafkajs the project installs is the one the fix was written against', () => {
  // A new kafkajs may have fixed its queue or changed it: read common/kafka/request-queue-fix.ts again.
  expect(installedKafkajsVersion()).toBe(PATCHED_KAFKAJS_VERSION);
});

test('as shipped, an idle queue keeps re-arming a timer (what the fix removes)', () => {
  const queue = newQueue();
  queue.scheduleCheckPendingRequests = shipped; // on the instance: whatever the prototype holds by now
  queue.checkPendingRequests();
  for (let ms = 0; ms < 5; ms++) {
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1);
  }
  expect(jest.getTimerCount()).toBe(1);
});

describe('with the fix', () => {
  beforeAll(() => expect(fixKafkajsIdleTimer()).toBe(true));

  test('a queue with nothing waiting arms no timer', () => {
    const queue = newQueue();
    queue.checkPendingRequests();
    expect(jest.getTimerCount()).toBe(0);
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  test('a request held by a client-side throttle is sent when the throttle ends, and then no timer is left', () => {
    const queue = newQueue();
    const sent: number[] = [];
    queue.maybeThrottle(50);
    queue.push(request(1, sent));
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([1]);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a request waiting for an in-flight slot goes out when a response frees one', () => {
    const queue = newQueue(1);
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.push(request(2, sent));
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    queue.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    expect(queue.pending).toEqual([]);
    // The check armed while request 2 waited runs once more, finds nothing and does not re-arm.
    jest.advanceTimersByTime(10);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a throttle that has already ended by the check still sends the waiting request (kafkajs#1532)', () => {
    const queue = newQueue();
    const sent: number[] = [];
    queue.maybeThrottle(1);
    queue.push(request(1, sent));
    jest.setSystemTime(Date.now() + 5); // the clock moves past the throttle without the timer firing
    jest.advanceTimersByTime(10);
    expect(sent).toEqual([1]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
