/** One wall-clock second's counts. */
export interface CountedSecond<K extends string> {
  readonly second: number;
  readonly counts: Record<K, number>;
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/**
 * Counts of events in the current wall-clock second, for the admission signals that judge a
 * second by the one before. Nothing runs on a timer: the first look in a later second closes the
 * one before and hands it to `closed`, with how many seconds passed since it began (1: the
 * second right after it; more: the seconds between had nothing counted).
 */
export class PerSecondCounts<K extends string> {
  private current: { second: number; counts: Record<K, number> };

  constructor(
    private readonly keys: readonly K[],
    private readonly closed: (last: CountedSecond<K>, elapsed: number) => void,
    private readonly now: () => number,
  ) {
    this.current = { second: 0, counts: zeros(keys) };
  }

  /** The current second's counts, to read or add to. */
  get(): { readonly second: number; counts: Record<K, number> } {
    const second = Math.floor(this.now() / 1000);
    if (second === this.current.second) return this.current;
    const last = this.current;
    this.current = { second, counts: zeros(this.keys) };
    this.closed(last, second - last.second);
    return this.current;
  }
}
