/** A source of per-stage waits: uniform integers in [minMs, maxMs]. `random` is injectable for tests. */
export type Delays = () => number;

export function uniformDelays(minMs: number, maxMs: number, random: () => number = Math.random): Delays {
  if (minMs > maxMs) throw new RangeError(`delay min ${minMs} exceeds max ${maxMs}`);
  const span = maxMs - minMs + 1;
  return () => minMs + Math.floor(random() * span);
}

/**
 * Delays for a clock that ends each on the next boundary of its tick (stage-clock.ts): drawn from
 * [minMs, maxMs - tickMs], so that what the clock makes of them stays within [minMs, maxMs]
 * whenever the range is wider than a tick.
 */
export const tickedDelays = (minMs: number, maxMs: number, tickMs: number): Delays =>
  uniformDelays(minMs, Math.max(minMs, maxMs - tickMs));
