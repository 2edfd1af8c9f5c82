/** A source of per-stage waits: uniform integers in [minMs, maxMs]. `random` is injectable for tests. */
export type Delays = () => number;

export function uniformDelays(minMs: number, maxMs: number, random: () => number = Math.random): Delays {
  if (minMs > maxMs) throw new RangeError(`delay min ${minMs} exceeds max ${maxMs}`);
  const span = maxMs - minMs + 1;
  return () => minMs + Math.floor(random() * span);
}
