import { PATCHED_KAFKAJS_VERSION, installedKafkajsVersion } from './request-queue-fix';

/**
 * kafkajs 2.2.4 can leave a request waiting forever on a connection it has closed.
 * `Connection.disconnect()` (connection.js 266-282) marks the connection DISCONNECTING, which
 * still counts as connected so that requests in flight may finish, and awaits
 * `waitForPendingRequests()`. A send whose encoding ends in the microtask between that wait
 * resolving and `requestQueue.destroy()` is written anyway. `destroy()` then stops the request
 * timeout check, the socket is ended, and the broker, reading the end, may never answer; since
 * the connection is DISCONNECTED by then, the socket's end is not taken as an error either. The
 * caller's promise never settles (a consumer's fetch to that broker stops while its heartbeats go
 * on, so no watchdog of the whole consumer sees it), and the next `disconnect()` waits for that
 * request forever, holding the connection in DISCONNECTING, which the pool takes for connected.
 *
 * The replacement runs kafkajs' own disconnect, then rejects whatever request is still queued or
 * in flight: nothing can answer it any more. It rejects them with the error kafkajs itself gives
 * requests pending on a socket that ended (`KafkaJSConnectionClosedError`, retriable, naming the
 * broker), because that is the one its callers recover from in place: a consumer's fetch drops
 * the broker's connection and fetches again, a producer refreshes its metadata and sends again,
 * where a plain connection error would cost a consumer a crash and a restart.
 */
interface ConnectionState {
  host: string;
  port: number;
  requestQueue: { rejectAll(error: Error): void };
  disconnect: (this: ConnectionState) => Promise<boolean>;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the same module instances as `import 'kafkajs'` */
const loadConnection = () => require('kafkajs/src/network/connection') as { prototype: ConnectionState };
/** Not in kafkajs' typings, though its own. */
const loadClosedError = () =>
  (
    require('kafkajs/src/errors') as {
      KafkaJSConnectionClosedError: new (message: string, where: { host: string; port: number }) => Error;
    }
  ).KafkaJSConnectionClosedError;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Rejects what kafkajs' disconnect left waiting; `shipped` is kafkajs' own `disconnect`. */
function disconnectRejectingLeftovers(
  shipped: (this: ConnectionState) => Promise<boolean>,
): (this: ConnectionState) => Promise<boolean> {
  const ClosedError = loadClosedError();
  return async function disconnect(this: ConnectionState) {
    const done = await shipped.call(this);
    this.requestQueue.rejectAll(new ClosedError('Closed connection', { host: this.host, port: this.port }));
    return done;
  };
}

let applied = false;

/** Installs the replacement on kafkajs' `Connection` (every connection, made before or after). Returns whether it did. */
export function fixKafkajsDisconnect(): boolean {
  if (applied) return true;
  if (installedKafkajsVersion() !== PATCHED_KAFKAJS_VERSION) return false;
  const prototype = loadConnection().prototype;
  prototype.disconnect = disconnectRejectingLeftovers(prototype.disconnect);
  applied = true;
  return true;
}
