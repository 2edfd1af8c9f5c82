/**
 * kafkajs 2.2.4 keeps every broker connection busy with a 1 ms timer for as long as it is open
 * (tulios/kafkajs#1556, #1704; the fix, #1667, is unreleased). `RequestQueue`'s
 * `scheduleCheckPendingRequests` arms a timer even when no request waits, and then with a negative
 * delay (`throttledUntil` is -1 until a throttle), so the check re-arms itself about a thousand
 * times a second. Measured here: an idle consumer cost 37 CPU-ms a second whether it fetched every 100 ms
 * or every 5 s, and every client of every service has several such connections.
 *
 * The replacement arms the timer only when a request is waiting: for the end of a client-side
 * throttle, or else at kafkajs' own 10 ms interval. A waiting request is still always checked
 * (the guarantee kafkajs#1532 added for a throttle that ends within the same millisecond); a
 * request that waits only for an in-flight slot is also sent when a response frees one.
 */
/** The interval kafkajs uses (`CHECK_PENDING_REQUESTS_INTERVAL`, not exported). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** The fields of kafkajs' private `RequestQueue` that the replacement reads and writes. */
interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/**
 * The kafkajs release whose private parts this project replaces: the `RequestQueue` timer here,
 * the connection's disconnect (disconnect-fix.ts), the record encoder (record-encoder.ts) and the
 * record decoder (record-decoder.ts). Another release is left as it is (its internals may
 * differ); request-queue-fix.test.ts fails until someone has read them.
 */
export const PATCHED_KAFKAJS_VERSION = '2.2.4';

// Through `require`, not a path of our own: the same module instance as `import 'kafkajs'`, also under jest.
/* eslint-disable @typescript-eslint/no-require-imports */
const loadRequestQueue = () => require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueState };
export const installedKafkajsVersion = (): string => (require('kafkajs/package.json') as { version: string }).version;
/* eslint-enable @typescript-eslint/no-require-imports */

function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
  const throttledForMs = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledForMs > 0 ? throttledForMs : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

let applied = false;

/**
 * Replaces the busy timer in every kafkajs connection of this process (the method is on the
 * prototype, so connections made before the call are fixed too). Returns whether it did.
 */
export function fixKafkajsIdleTimer(): boolean {
  if (applied) return true;
  if (installedKafkajsVersion() !== PATCHED_KAFKAJS_VERSION) return false;
  loadRequestQueue().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  applied = true;
  return true;
}
