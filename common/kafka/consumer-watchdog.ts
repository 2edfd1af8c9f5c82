import type { Consumer } from 'kafkajs';
import type { Logger } from '../logger';

/**
 * What a process does with a consumer that stopped consuming. kafkajs sometimes hangs in its own
 * restart after a broker outage (no fetch, no heartbeat, no error, forever). The long-running
 * services pass "log and exit" (see runService): crash-only, a supervisor restarts the process,
 * and committed offsets make the restart lose nothing.
 */
export type StallHandler = (consumerName: string, reason: string) => void;

/** Where nobody supervises (tests, tools): the watchdog's own log line is all. */
export const ignoreStall: StallHandler = () => undefined;

/**
 * Calls `onStall` when the consumer shows no sign of life (fetch loop, heartbeat, batch) for
 * `stallMs`, or crashes without kafkajs planning a restart. Returns a function that stops watching.
 */
export function watchConsumer(
  consumer: Consumer,
  name: string,
  stallMs: number,
  logger: Logger,
  onStall: StallHandler,
): () => void {
  let last = Date.now();
  // Paused while the consumer is stopped. kafkajs stops a crashed consumer (STOP, DISCONNECT)
  // before it reports the CRASH, so a stop only counts as deliberate if no CRASH follows: the
  // CRASH listener stays, and a crash that kafkajs restarts resumes the watch.
  let watching = true;
  const alive = (): void => {
    last = Date.now();
  };
  const { FETCH_START, HEARTBEAT, START_BATCH_PROCESS, END_BATCH_PROCESS, CRASH, STOP, DISCONNECT } = consumer.events;
  const removers = [FETCH_START, HEARTBEAT, START_BATCH_PROCESS, END_BATCH_PROCESS].map((event) =>
    consumer.on(event, alive),
  );
  removers.push(
    consumer.on(CRASH, (e) => {
      if (e.payload.restart) {
        watching = true;
        alive();
        return;
      }
      logger.error({ consumer: name, err: e.payload.error }, 'consumer crashed for good');
      onStall(name, `crashed without restart: ${String(e.payload.error)}`);
    }),
    ...[STOP, DISCONNECT].map((event) => consumer.on(event, () => void (watching = false))),
  );
  const timer = setInterval(
    () => {
      if (!watching || Date.now() - last <= stallMs) return;
      logger.error({ consumer: name, silentForMs: Date.now() - last }, 'consumer stalled');
      last = Date.now(); // report once per silent period
      onStall(name, `no fetch or heartbeat for ${stallMs} ms`);
    },
    Math.max(250, stallMs / 4),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    removers.forEach((remove) => remove());
  };
}
