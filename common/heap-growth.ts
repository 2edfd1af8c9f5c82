import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, before the
 * next one. Left to itself V8 picks up to 4× when collecting is cheap against the program's work:
 * under load the gateway with 10,000 subscribers (about 160 MB live) reached 505–545 MB of RSS,
 * and 335 MB at 40 %. The price is more full collections (24–25 instead of 5–9 in a three-minute
 * run, 0.3–0.5 s of pauses instead of 0.1), which an interleaved A/B could not tell from noise in
 * CPU per payment (docs/performance.md, fifth round).
 */
export const HEAP_GROWTH_FLAG = '--heap-growing-percent';

/**
 * Holds the old generation to `percent` above its live size (0 leaves V8's own choice). V8 reads
 * this flag at each collection, so setting it once the process runs takes effect from the next.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`${HEAP_GROWTH_FLAG}=${percent}`);
}
