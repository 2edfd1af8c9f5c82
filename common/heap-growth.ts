import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, before the
 * next one. Left to itself V8 picks up to 4× when collecting is cheap against the program's work:
 * under load the gateway with 10,000 subscribers (about 160 MB live) reached 505–545 MB of RSS,
 * and 333–335 MB at 40 %. The price is more full collections (24–25 instead of 5–9 in a
 * three-minute run), and it is not free on every load: at 1,000 payments/s offered the gateway
 * at 40 % accepted 245–251/s against 298–391/s left to V8, though with a lower p99
 * (docs/performance.md, fifth round). So it is a setting for replicas bound by memory, such as a
 * gateway holding many subscribers, not a default.
 */
export const HEAP_GROWTH_FLAG = '--heap-growing-percent';

/**
 * Holds the old generation to `percent` above its live size (0 leaves V8's own choice). V8 reads
 * this flag at each collection, so setting it once the process runs takes effect from the next.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`${HEAP_GROWTH_FLAG}=${percent}`);
}
