/**
 * A token bucket per key: `perMinute` points on average, bursts up to the same number; a call
 * spends `cost` points. Per replica; behind N replicas a user gets up to N times the limit, which
 * is fine for abuse control.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  /** 0 when the call may proceed, else the whole seconds until it could; 0 per minute means no limit. */
  take(key: string, cost = 1, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = this.refilled(bucket, now);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < cost) return Math.max(1, Math.ceil(((cost - bucket.tokens) * 60) / this.perMinute));
    bucket.tokens -= cost;
    if (this.buckets.size > 100_000) this.prune(now);
    return 0;
  }

  private refilled(b: { tokens: number; at: number }, now: number): number {
    return Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
  }

  /** Full buckets carry no information; dropping them bounds memory. */
  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (this.refilled(b, now) >= this.perMinute) this.buckets.delete(key);
  }
}
