export interface Backoff {
  /** The ceiling of the first wait. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 100, maxMs: 5_000 };

/**
 * The wait before retry number `attempt` (1 for the first): the ceiling doubles each attempt up to
 * `maxMs`, and the wait is drawn from its upper half, so replicas that failed together do not
 * retry together while none retries much sooner than planned.
 */
export function backoffMs(attempt: number, b: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
