import { percentile } from '../common/percentile';

/**
 * Per-second views of a bench run, for the chart (chart.ts) and the report's `timeline`.
 * Latencies stay raw until a second is summarised: percentiles of different processes do not merge.
 */

/** null: nothing was measured that second (a gap in the chart, not a zero). */
export type Measured = number | null;

/** One second of requests, keyed by when each was sent (open loop: scheduled to be sent). */
export interface LoadSecond {
  second: number;
  sent: number;
  ok: number;
  refused: number;
  errors: number;
  /** Of the requests sent this second, however long after it they were answered. */
  latencyMs: { p50: Measured; p99: Measured; max: Measured };
}

export type Outcome = 'ok' | 'refused' | 'error';

interface Bucket {
  ok: number;
  refused: number;
  errors: number;
  latencies: number[];
}

export const secondOf = (atMs: number, t0Ms: number): number => Math.floor((atMs - t0Ms) / 1000);

const round = (n: number): Measured => (Number.isFinite(n) ? Math.round(n * 10) / 10 : null);

/** p50 / p99 / max of unsorted samples; nulls when there are none. */
function latencyOf(samples: number[]): { p50: Measured; p99: Measured; max: Measured } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** The load generator's buckets: a few numbers and one latency array per second, so memory stays small. */
export class LoadTimeline {
  private readonly buckets: Bucket[] = [];

  add(second: number, outcome: Outcome, latencyMs: number): void {
    const bucket = this.bucket(second);
    if (outcome === 'ok') bucket.ok += 1;
    else if (outcome === 'refused') bucket.refused += 1;
    else bucket.errors += 1;
    bucket.latencies.push(latencyMs);
  }

  /** Every second from 0 to the last one anything was sent in, quiet ones included. */
  summary(): LoadSecond[] {
    return Array.from({ length: this.buckets.length }, (_, second) => {
      const b = this.buckets[second] ?? { ok: 0, refused: 0, errors: 0, latencies: [] };
      const sent = b.ok + b.refused + b.errors;
      return { second, sent, ok: b.ok, refused: b.refused, errors: b.errors, latencyMs: latencyOf(b.latencies) };
    });
  }

  private bucket(second: number): Bucket {
    const s = Math.max(0, second);
    return (this.buckets[s] ??= { ok: 0, refused: 0, errors: 0, latencies: [] });
  }
}

/** A watcher's pushes: `seconds[i]` is when `samples[i]` was received, in seconds since its second 0 (`startedAtMs`). */
export interface PushSeries {
  startedAtMs: number;
  seconds: number[];
  samples: number[];
}

export interface PushSecond {
  second: number;
  pushes: number;
  p50: Measured;
  p99: Measured;
}

/**
 * The watchers' raw samples merged per second of the load (which began at `loadStartedAtMs`).
 * A watcher's own second 0 is shifted to the nearest second of the load's; pushes received
 * before the load began (late warm-up ones) are left out.
 */
/** Accepted requests per second over `seconds` seconds from second `from` of a load's timeline (whole seconds). */
export function steadyRate(load: LoadSecond[], from: number, seconds: number): number {
  const ok = load.filter((s) => s.second >= from && s.second < from + seconds).reduce((sum, s) => sum + s.ok, 0);
  return Math.round(ok / seconds);
}

export function mergePushSeconds(watchers: PushSeries[], loadStartedAtMs: number): PushSecond[] {
  const perSecond: number[][] = [];
  for (const w of watchers) {
    const shift = Math.round((w.startedAtMs - loadStartedAtMs) / 1000);
    w.samples.forEach((ms, i) => {
      const second = (w.seconds[i] ?? 0) + shift;
      if (second >= 0) (perSecond[second] ??= []).push(ms);
    });
  }
  return Array.from({ length: perSecond.length }, (_, second) => {
    const samples = perSecond[second] ?? [];
    const { p50, p99 } = latencyOf(samples);
    return { second, pushes: samples.length, p50, p99 };
  });
}

/** A running total (terminal payments) read at an instant. */
export interface CountAt {
  atMs: number;
  count: number;
}

/**
 * Increase per second of a total read about once a second at irregular instants, for the
 * seconds since `t0Ms` that the readings span. The total is interpolated linearly at each
 * second's edges, so a late or missing reading smears over its neighbours instead of showing
 * as a spike; seconds not spanned are null.
 */
export function perSecondIncrease(readings: CountAt[], t0Ms: number): Measured[] {
  const sorted = [...readings].sort((a, b) => a.atMs - b.atMs);
  const last = sorted.at(-1);
  if (!last) return [];
  const at = (ms: number): number | undefined => {
    const after = sorted.findIndex((r) => r.atMs >= ms);
    const b = sorted[after];
    const a = sorted[after - 1];
    if (!b || (!a && b.atMs > ms)) return undefined;
    if (!a || b.atMs === ms) return b.count;
    return a.count + ((b.count - a.count) * (ms - a.atMs)) / (b.atMs - a.atMs);
  };
  const seconds = Math.max(0, secondOf(last.atMs, t0Ms));
  return Array.from({ length: seconds }, (_, s) => {
    const from = at(t0Ms + s * 1000);
    const to = at(t0Ms + (s + 1) * 1000);
    return from === undefined || to === undefined ? null : Math.round(to - from);
  });
}

/** One second of the whole run, as the report's `timeline` holds it. */
export interface RunSecond {
  /** Seconds since the load began: this entry covers [second, second + 1). */
  second: number;
  /** createPayment requests sent this second (open loop: scheduled, so this is the offered rate). */
  offered: number;
  accepted: number;
  refused: number;
  errors: number;
  /** Of the requests sent this second. */
  createPaymentMs: { p50: Measured; p99: Measured };
  /** Payments that became terminal this second (any payment, not only those sent this second). */
  completed: Measured;
  /** Status pushes received this second; only when the run had subscribers. */
  push?: { pushes: number; p50Ms: Measured; p99Ms: Measured };
}

/**
 * The load's, the completions' and the pushes' seconds side by side, from the load's start to
 * the last second anything happened (the drain after the load included).
 */
export function runTimeline(load: LoadSecond[], completed: Measured[], push?: PushSecond[]): RunSecond[] {
  const active = (s: number): boolean =>
    (load[s]?.sent ?? 0) > 0 || (completed[s] ?? 0) > 0 || (push?.[s]?.pushes ?? 0) > 0;
  let length = Math.max(load.length, completed.length, push?.length ?? 0);
  while (length > load.length && !active(length - 1)) length -= 1;
  return Array.from({ length }, (_, second) => {
    const l = load[second];
    const p = push?.[second];
    return {
      second,
      offered: l?.sent ?? 0,
      accepted: l?.ok ?? 0,
      refused: l?.refused ?? 0,
      errors: l?.errors ?? 0,
      createPaymentMs: { p50: l?.latencyMs.p50 ?? null, p99: l?.latencyMs.p99 ?? null },
      completed: completed[second] ?? null,
      ...(push && { push: { pushes: p?.pushes ?? 0, p50Ms: p?.p50 ?? null, p99Ms: p?.p99 ?? null } }),
    };
  });
}
