import { percentile } from '../../common/percentile';

export interface AdaptiveLimitOptions {
  /** The latency (p90 over a window) the limit steers toward. */
  targetMs: number;
  initial: number;
  min: number;
  max: number;
  /** How often the limit is adjusted. */
  windowMs: number;
  now?: () => number;
}

/** Cut at most in half per window, so one slow window (a GC pause, a checkpoint) does not empty the gate. */
const MAX_CUT = 0.5;
/** Grow by a tenth per window while the limit is what turns calls away and latency is on target. */
const GROWTH = 0.1;

/**
 * How many calls may be in flight at once, adjusted to keep their latency near a target (in the
 * spirit of TCP Vegas and Netflix's concurrency-limits). Past the limit a call is refused at once,
 * so the queue that would have formed, in Postgres, the broker or the sockets, never does: what is
 * accepted is answered within about the target, and the rest hears "retry" in microseconds.
 *
 * Only calls that complete normally are samples; refusals and calls that end on a timeout (an
 * outage, answered NEW) say nothing about how much the system can take.
 */
export class AdaptiveLimit {
  private inFlight = 0;
  private current: number;
  private samples: number[] = [];
  private bound = false;
  private windowStart: number;
  private readonly now: () => number;

  constructor(private readonly o: AdaptiveLimitOptions) {
    this.now = o.now ?? (() => performance.now());
    this.current = o.initial;
    this.windowStart = this.now();
  }

  get limit(): number {
    return this.current;
  }

  get inUse(): number {
    return this.inFlight;
  }

  /** Whether a call now would be refused. */
  get full(): boolean {
    return this.inFlight >= this.current;
  }

  /** A call was turned away because the limit was full: evidence it may be too low. */
  noteRefusal(): void {
    this.bound = true;
  }

  /** A slot, or undefined when full; `release(sample)` ends it (`false`: not a latency sample). */
  tryAcquire(): ((sample: boolean) => void) | undefined {
    if (this.full) {
      this.noteRefusal();
      return undefined;
    }
    this.inFlight += 1;
    const start = this.now();
    let released = false;
    return (sample) => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      // The window closes on the first call to end after it: its latency belongs to the next one.
      this.adjust();
      if (sample) this.samples.push(this.now() - start);
    };
  }

  private adjust(): void {
    const now = this.now();
    if (now - this.windowStart < this.o.windowMs) return;
    const { samples, bound } = this;
    this.windowStart = now;
    this.samples = [];
    this.bound = false;
    if (samples.length === 0) return;
    const p90 = percentile(
      samples.sort((a, b) => a - b),
      90,
    );
    let next = this.current;
    if (p90 > this.o.targetMs) {
      next = Math.floor(next * Math.max(MAX_CUT, this.o.targetMs / p90));
    } else if (bound) next += Math.max(1, Math.round(next * GROWTH));
    this.current = Math.min(this.o.max, Math.max(this.o.min, next));
  }
}

/**
 * createPayment's limit: starts where a laptop is comfortable, never below a handful (so a slow
 * spell does not shut the door) and adjusts four times a second. `targetMs` 0: no limit.
 */
export const createPaymentLimit = (targetMs: number): AdaptiveLimit | undefined =>
  targetMs > 0 ? new AdaptiveLimit({ targetMs, initial: 64, min: 16, max: 4096, windowMs: 250 }) : undefined;
