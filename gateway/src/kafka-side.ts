import { backoffMs, type Backoff } from '../../common/backoff';
import { stopStages, type CompositeStoppable, type StopStage } from '../../common/lifecycle';
import type { Logger } from '../../common/logger';
import { sleep } from '../../common/sleep';
import { withTimeout } from '../../common/with-timeout';

/** Between attempts to start the Kafka side while Kafka does not answer. */
const RETRY_BACKOFF: Backoff = { baseMs: 1000, maxMs: 15_000 };
/** How long a stop waits for an attempt under way (kafkajs retries a connection for ~20 s). */
const STOP_WAIT_MS = 5000;

/** The part of the gateway that needs Kafka: its topics and its consumers. */
export interface KafkaSide extends CompositeStoppable {
  /** Resolves once an attempt has started everything; rejects if the gateway stops first. */
  readonly started: Promise<void>;
  /** Whether `started` has resolved: the gateway is not ready before. */
  isStarted(): boolean;
}

/**
 * Starts the gateway's Kafka side, and while Kafka does not answer, tries again with backoff for
 * as long as the gateway runs. createPayment needs none of it (the outbox keeps what Kafka cannot
 * take yet, and the relay sends it later), so a gateway that starts during a Kafka outage can
 * serve at once instead of exiting and leaving the API down until the broker returns.
 *
 * `attempt` must leave nothing running when it fails.
 */
export function startKafkaSide(attempt: () => Promise<StopStage>, logger: Logger): KafkaSide {
  const stopping = new AbortController();
  let parts: StopStage = {};
  let isStarted = false;
  /** What has started and nobody has stopped yet, handed over once. */
  const takeParts = (): StopStage => {
    const taken = parts;
    parts = {};
    return taken;
  };
  const started = (async () => {
    for (let failures = 0; ;) {
      try {
        parts = await attempt();
        // A stop that gave up waiting for this attempt has already gone on without it.
        if (stopping.signal.aborted) {
          await stopStages("the gateway's Kafka side", [takeParts()]);
          throw new Error('stopped before it had started');
        }
        isStarted = true;
        return;
      } catch (e) {
        if (stopping.signal.aborted) throw e;
        failures += 1;
        const inMs = backoffMs(failures, RETRY_BACKOFF);
        logger.warn({ err: e, failures, inMs }, 'Kafka did not answer the gateway; serving without it, trying again');
        await sleep(inMs, undefined, { signal: stopping.signal });
      }
    }
  })();
  void started.catch(() => undefined); // a stop ends it; whoever awaits it sees why
  const stopWithin = async (pending?: Set<string>, prefix?: string): Promise<void> => {
    stopping.abort();
    await withTimeout(started, STOP_WAIT_MS, 'the Kafka side starting').catch(() => undefined);
    await stopStages("the gateway's Kafka side", [takeParts()], pending, prefix);
  };
  return { started, isStarted: () => isStarted, stop: () => stopWithin(), stopWithin };
}

/**
 * Waits up to `waitMs` for the Kafka side, so that when Kafka answers, the gateway is ready (its
 * consumers joined) when it begins to serve. Past that it serves without it, and says so, and
 * again when it has started.
 */
export async function awaitKafkaSide(side: KafkaSide, waitMs: number, logger: Logger): Promise<void> {
  const inTime = await withTimeout(side.started, waitMs, 'the Kafka side starting').then(
    () => true,
    () => false,
  );
  if (inTime) return;
  logger.warn({ waitMs }, 'serving without Kafka: createPayment answers NEW and the outbox keeps the payments');
  void side.started.then(
    () => logger.info("Kafka answered: the gateway's consumers run and the outbox is sent"),
    () => undefined,
  );
}
