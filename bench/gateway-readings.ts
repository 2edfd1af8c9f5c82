import { scrape, type Scrape } from '../common/prometheus-text';
import { CREATE_STAGES, type CreateStage } from '../gateway/src/metrics';

/**
 * What the gateway's own `/metrics` says of a run, read before and after the load: which load
 * reading refused payments (`gateway_admission_refusals_total`), and where an accepted
 * createPayment's time went (`gateway_create_payment_stage_seconds`).
 */
export interface GatewayReadings {
  /** Refusals by the reading that was over its limit. */
  refusedBy: Record<string, number>;
  /** Per step, in ms: the mean, and p50/p99 as the histogram bucket they fall in (an upper bound; null past the last). */
  stagesMs: Partial<Record<CreateStage, StageTime>>;
}

export interface StageTime {
  count: number;
  mean: number;
  p50AtMost: number | null;
  p99AtMost: number | null;
}

/** Undefined when the gateway did not answer: a diagnostic must not cost the run its results. */
export const scrapeGateway = (gatewayUrl: string): Promise<Scrape | undefined> =>
  scrape(gatewayUrl).catch(() => undefined);

export function readingsBetween(before: Scrape | undefined, after: Scrape | undefined): GatewayReadings | undefined {
  if (!before || !after) return undefined;
  const grew = (name: string, labels: Record<string, string>) => after.sum(name, labels) - before.sum(name, labels);
  const signals = new Set(after.matching('gateway_admission_refusals_total').flatMap((s) => s.labels.signal ?? []));
  const refusedBy = Object.fromEntries(
    [...signals]
      .map((signal) => [signal, grew('gateway_admission_refusals_total', { signal })] as const)
      .filter(([, n]) => n > 0),
  );
  const stagesMs: GatewayReadings['stagesMs'] = {};
  for (const stage of CREATE_STAGES) {
    const count = grew('gateway_create_payment_stage_seconds_count', { stage });
    if (count <= 0) continue;
    const buckets = after
      .matching('gateway_create_payment_stage_seconds_bucket', { stage })
      .map((b) => ({
        le: bucketBound(b.labels.le),
        below: grew('gateway_create_payment_stage_seconds_bucket', b.labels),
      }))
      .sort((a, b) => a.le - b.le);
    const atMost = (q: number): number | null => {
      const le = buckets.find((b) => b.below >= q * count)?.le ?? Infinity;
      return Number.isFinite(le) ? Math.round(le * 1e4) / 10 : null;
    };
    const mean = (grew('gateway_create_payment_stage_seconds_sum', { stage }) * 1000) / count;
    stagesMs[stage] = { count, mean: Math.round(mean * 10) / 10, p50AtMost: atMost(0.5), p99AtMost: atMost(0.99) };
  }
  return { refusedBy, stagesMs };
}

/** A bucket's `le`: prom-client writes the last one as `+Inf`, which `Number` does not read. */
const bucketBound = (le: string | undefined): number => (le === '+Inf' ? Infinity : Number(le));
