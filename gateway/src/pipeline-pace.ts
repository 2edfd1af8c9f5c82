/** Seconds of finished payments the pace is taken over: longer than a payment's own 1-10 s in the pipeline would be slower to follow. */
const WINDOW_SECONDS = 5;

/**
 * Slow start for new payments: at most `growth` times as many accepted per second as the pipeline
 * finished per second lately, and never fewer than `floorPerSecond`. The concurrency limit
 * (adaptive-limit.ts) follows createPayment's own latency, which is low while the pipeline is
 * idle: a burst on an idle system was accepted at 1,100-1,800/s for seconds, and its paymaster and
 * money-storage work, landing one to ten seconds later, then saturated the machine so that
 * requests waited up to 30 s to be read. What the pipeline has finished is what it has shown it
 * can carry; growing from there doubles the pace every few seconds, and in steady state (accepted
 * = finished) the cap is never reached.
 */
export class PipelinePace {
  /** Finished payments per whole second, newest last, for the WINDOW_SECONDS before the current one. */
  private readonly finished: number[] = [];
  private current = { second: 0, finished: 0, accepted: 0 };

  constructor(
    private readonly floorPerSecond: number,
    private readonly growth = 2,
    private readonly now: () => number = Date.now,
  ) {}

  noteFinished(): void {
    this.roll().finished += 1;
  }

  noteAccepted(): void {
    this.roll().accepted += 1;
  }

  /** New payments allowed in the current second. */
  get cap(): number {
    this.roll();
    const finishedPerSecond = this.finished.reduce((sum, n) => sum + n, 0) / WINDOW_SECONDS;
    return Math.max(this.floorPerSecond, Math.ceil(this.growth * finishedPerSecond));
  }

  get acceptedThisSecond(): number {
    return this.roll().accepted;
  }

  get full(): boolean {
    return this.acceptedThisSecond >= this.cap;
  }

  private roll(): { second: number; finished: number; accepted: number } {
    const second = Math.floor(this.now() / 1000);
    if (second === this.current.second) return this.current;
    // Seconds with nothing in them count as zeros; more than a window of them empties it.
    const gap = Math.min(second - this.current.second, WINDOW_SECONDS + 1);
    this.finished.push(this.current.finished, ...Array<number>(Math.max(0, gap - 1)).fill(0));
    this.finished.splice(0, Math.max(0, this.finished.length - WINDOW_SECONDS));
    this.current = { second, finished: 0, accepted: 0 };
    return this.current;
  }
}
