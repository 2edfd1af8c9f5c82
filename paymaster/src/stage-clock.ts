/** Cancels a scheduled callback; cancelling one that already ran does nothing. */
export type Cancel = () => void;

/** Where the conductor's stage timers run. */
export interface StageClock {
  /** Runs `fn` once `delayMs` have passed. */
  after(delayMs: number, fn: () => void): Cancel;
}

/** One `setTimeout` per callback, to the millisecond. */
export const timeoutClock: StageClock = {
  after(delayMs, fn) {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  },
};

/**
 * Runs callbacks on the boundaries of a shared tick: each at the first boundary at or after its
 * delay, so never early and at most one tick late. Every payment whose stage ends within the same
 * tick then publishes in the same turn of the event loop, and the publisher sends them in one
 * produce request instead of one per linger: the broker spends about the same CPU on a request
 * whatever it carries (docs/performance.md, thirteenth round). A status is stamped when it is
 * made, at the tick, so the tick adds nothing to how late a subscriber hears of it; it moves the
 * end of a random delay by less than a tick.
 *
 * One timer, for the earliest tick that has callbacks; callbacks are kept per tick.
 */
export class TickClock implements StageClock {
  private readonly due = new Map<number, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  /** The tick the timer is set for. */
  private armedFor: number | undefined;

  constructor(
    private readonly tickMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(tickMs > 0)) throw new RangeError(`a tick must be positive, not ${tickMs}`);
  }

  after(delayMs: number, fn: () => void): Cancel {
    const tick = Math.ceil((this.now() + delayMs) / this.tickMs);
    let callbacks = this.due.get(tick);
    if (!callbacks) this.due.set(tick, (callbacks = new Set()));
    // A wrapper of its own, so the same function scheduled twice is cancelled once.
    const job = (): void => fn();
    callbacks.add(job);
    this.arm(tick);
    // By key, not by the Set: a Cancel kept after its tick ran must not hold that tick's callbacks.
    return () => {
      const pending = this.due.get(tick);
      if (pending?.delete(job) && pending.size === 0) this.due.delete(tick);
    };
  }

  /** Lets the process exit: drops what is left and the timer, as cleared timeouts would. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
    this.due.clear();
  }

  private arm(tick: number): void {
    if (this.armedFor !== undefined && this.armedFor <= tick) return;
    clearTimeout(this.timer);
    this.armedFor = tick;
    this.timer = setTimeout(() => this.fire(), Math.max(0, tick * this.tickMs - this.now()));
  }

  /**
   * Runs every due tick. A callback that throws does not stop the others, nor the ticks after it:
   * the first error is thrown once all ran and the timer is armed again, as a throwing timeout's would be.
   */
  private fire(): void {
    this.timer = undefined;
    this.armedFor = undefined;
    const current = Math.floor(this.now() / this.tickMs);
    let failure: { error: unknown } | undefined;
    let next: number | undefined;
    // One pass over the ticks, which are up to a deadline's worth (1,500 at 20 ms for 30 s). A
    // callback may schedule another, for a tick already due or not: the Map's iteration reaches it
    // too.
    for (const [tick, callbacks] of this.due) {
      if (tick > current) {
        if (next === undefined || tick < next) next = tick;
        continue;
      }
      this.due.delete(tick);
      for (const job of callbacks) {
        try {
          job();
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    // A callback may have cancelled that tick, or stopped the clock: then look again.
    if (next !== undefined && !this.due.has(next)) next = earliest(this.due.keys());
    if (next !== undefined) this.arm(next);
    if (failure) throw failure.error;
  }
}

function earliest(ticks: Iterable<number>): number | undefined {
  let first: number | undefined;
  for (const tick of ticks) if (first === undefined || tick < first) first = tick;
  return first;
}
