import type { EachBatchPayload } from 'kafkajs';
import { backoffMs, DEFAULT_BACKOFF } from '../backoff';
import { sleep } from '../sleep';
import { classifyFailure, describeFailure } from '../failure-class';
import type { Logger } from '../logger';

/** What a retry loop needs of the consumer it runs in. */
export interface ConsumerScope {
  /** False once the consumer is stopping or its batch went stale (a rebalance): stop, commit nothing. */
  isActive(): boolean;
  /** Keeps the group membership while waiting; a session timeout would hand the partition away. */
  heartbeat(): Promise<void>;
  logger: Logger;
}

export const batchScope = (
  p: Pick<EachBatchPayload, 'isRunning' | 'isStale' | 'heartbeat'>,
  logger: Logger,
): ConsumerScope => ({
  isActive: () => p.isRunning() && !p.isStale(),
  heartbeat: () => p.heartbeat(),
  logger,
});

/** The work succeeded, failed for a reason that will not pass, or was given up because the consumer stopped. */
export type Attempt<T> = { kind: 'done'; value: T } | { kind: 'deterministic'; error: unknown } | { kind: 'abandoned' };

/** Heartbeats well inside the shortest session timeout the services accept (6 s). */
const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Runs `work` until it succeeds or fails deterministically. A transient failure (database or broker
 * briefly away) waits and tries again in place, heartbeating, instead of throwing into kafkajs,
 * whose restart re-reads the batch and, for a failure that persists, loops for ever.
 */
export async function retryTransient<T>(
  what: string,
  work: () => Promise<T>,
  scope: ConsumerScope,
  backoff = DEFAULT_BACKOFF,
): Promise<Attempt<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { kind: 'done', value: await work() };
    } catch (error) {
      if (classifyFailure(error) === 'deterministic') return { kind: 'deterministic', error };
      const delayMs = backoffMs(attempt, backoff);
      scope.logger.warn({ what, attempt, delayMs, err: describeFailure(error) }, 'transient failure, retrying');
      if (!(await waitHeartbeating(delayMs, scope))) return { kind: 'abandoned' };
    }
  }
}

/** Sleeps `ms` in slices, heartbeating between them; false as soon as the consumer is no longer active. */
async function waitHeartbeating(ms: number, scope: ConsumerScope): Promise<boolean> {
  for (let left = ms; left > 0; left -= HEARTBEAT_EVERY_MS) {
    if (!scope.isActive()) return false;
    await sleep(Math.min(left, HEARTBEAT_EVERY_MS));
    await scope.heartbeat();
  }
  return scope.isActive();
}
