import type { Admin } from 'kafkajs';
import { limitHeapGrowth } from './heap-growth';
import type { StallHandler } from './kafka/consumer-watchdog';
import type { Stoppable } from './lifecycle';
import type { Logger } from './logger';
import type { Tracing } from './tracing';
import { withTimeout } from './with-timeout';

/** A whole service is stopped like any of its parts: stop taking work, hand back what is in flight, commit, disconnect. */
export type RunningService = Stoppable;

/** What a supervised process gives the service it starts. */
export interface Supervision {
  /** Called when a consumer is stuck for good: the process exits so its supervisor restarts it. */
  onStall: StallHandler;
}

export interface RunOptions {
  /** How long a stop may take before the process exits anyway. */
  graceMs?: number;
  /** Flushed after the service has stopped, so the spans of its last work are exported too. */
  tracing?: Tracing;
  /** HEAP_GROWTH_PERCENT (see heap-growth.ts). */
  heapGrowthPercent?: number;
}

/**
 * Runs a long-lived service: starts it, and on SIGTERM/SIGINT stops it within `graceMs`.
 * A failed start exits 1 with the reason in the log, so a supervisor sees it at once.
 */
export function runService(
  logger: Logger,
  start: (supervision: Supervision) => Promise<RunningService>,
  { graceMs = 30_000, tracing, heapGrowthPercent = 0 }: RunOptions = {},
): void {
  limitHeapGrowth(heapGrowthPercent);
  let running: RunningService | undefined;
  let stopping = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long, exiting anyway');
      process.exit(1);
    }, graceMs);
    timer.unref();
    try {
      await running?.stop();
      await tracing?.shutdown();
      logger.info('stopped cleanly');
      process.exit(0);
    } catch (e) {
      logger.error({ err: e }, 'error while stopping');
      process.exit(1);
    }
  };

  const onStall: StallHandler = (consumer, reason) => {
    logger.fatal({ consumer, reason }, 'a Kafka consumer is stuck; exiting so the supervisor restarts this process');
    process.exit(1);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A stray rejection is a bug to fix, not a reason to drop every payment in flight.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception, exiting');
    process.exit(1);
  });

  start({ onStall })
    .then((service) => {
      running = service;
      logger.info('started');
    })
    .catch((e) => {
      logger.fatal({ err: e }, 'failed to start');
      process.exit(1);
    });
}

/** Kafka is ready when the cluster answers a metadata request in time. */
export function kafkaReadiness(admin: Admin, timeoutMs = 2000): () => Promise<boolean> {
  return async () => {
    const probe = admin.describeCluster().then((c) => c.brokers.length > 0);
    return withTimeout(probe, timeoutMs, 'Kafka metadata').catch(() => false);
  };
}
