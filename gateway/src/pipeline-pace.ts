import { PerSecondCounts, type CountedSecond } from './per-second-counts';

/** Seconds of finished payments the pace is taken over: longer than a payment's own 1-10 s in the pipeline would be slower to follow. */
const WINDOW_SECONDS = 5;
/**
 * At most this many times last second's accepted payments in this one: the finished pace lags
 * acceptance by the pipeline's 1-10 s, so a cap taken from it alone could jump from one second
 * to the next (250 to 900/s accepted within five seconds, at 1,000/s offered).
 */
const STEP_PER_SECOND = 1.2;
/**
 * At most this many times last second's accepted payments while climbing back to a pace the
 * pipeline has shown it carries (`shown`): the step of a fifth took 13 s from the floor to
 * 1,000/s after every quiet spell, refusing most of a load the machine had just carried.
 */
const RECOVERY_STEP_PER_SECOND = 2;
/**
 * How long the best finished pace is remembered: after a quiet spell the pace may climb back to
 * what the pipeline carried within this long without waiting for payments to finish again.
 */
const SHOWN_MEMORY_SECONDS = 300;

/**
 * Slow start for new payments: at most `growth` times as many accepted per second as the pipeline
 * finished per second lately, at most STEP_PER_SECOND times as many as the second before, and
 * never fewer than `floorPerSecond`. The concurrency limit
 * (adaptive-limit.ts) follows createPayment's own latency, which is low while the pipeline is
 * idle: a burst on an idle system was accepted at 1,100-1,800/s for seconds, and its paymaster and
 * money-storage work, landing one to ten seconds later, then saturated the machine so that
 * requests waited up to 30 s to be read. What the pipeline has finished is what it has shown it
 * can carry; growing from there doubles the pace every few seconds (by a fifth after a sign of
 * capacity, see `pressedGrowth`), and in steady state (accepted = finished) the cap is above what
 * is accepted. After a quiet spell nothing has finished lately, so the pace would sit at its floor
 * for the pipeline's 1-10 s and then climb by finished payments again, refusing most of a load
 * the machine carried minutes before: without a sign of capacity it may climb back (twice as many
 * a second, RECOVERY_STEP_PER_SECOND) to the best pace it finished over the last SHOWN_MEMORY_SECONDS.
 */
export class PipelinePace {
  /** Finished payments per whole second, newest last, for the WINDOW_SECONDS before the current one. */
  private readonly finished: number[] = [];
  private readonly seconds: PerSecondCounts<'finished' | 'accepted'>;
  private acceptedLastSecond = 0;
  /** The last second with a sign of capacity (`notePressure`); -Infinity before any. */
  private lastPressureSecond = -Infinity;
  /** The best finished pace over WINDOW_SECONDS, and when; forgotten after SHOWN_MEMORY_SECONDS or under pressure. */
  private shown = { perSecond: 0, second: -Infinity };

  constructor(
    private readonly floorPerSecond: number,
    private readonly growth = 2,
    now: () => number = Date.now,
    /**
     * The growth after a sign of capacity. Doubling is right on the way up from idle,
     * but at capacity it let twice what the machine carries in, until latency made the
     * concurrency limit refuse nearly everything for seconds: a 10 s swing between 200 and
     * 900/s accepted at 1,000/s offered. Within WINDOW_SECONDS of a sign of capacity
     * (`notePressure`) the pace rises by a fifth.
     */
    private readonly pressedGrowth = 1.2,
  ) {
    this.seconds = new PerSecondCounts(['finished', 'accepted'], (last, elapsed) => this.close(last, elapsed), now);
  }

  noteFinished(): void {
    this.seconds.get().counts.finished += 1;
  }

  /**
   * A load reading refused a payment: the system is at capacity. The concurrency limit's latency
   * cuts are not pressure here: that limit already answers latency, and counted twice they held
   * the pace to a fifth over a finished pace that trails acceptance, ratcheting it down to a
   * third of what the machine carried (docs/performance.md, tenth round). Nor is the event loop's
   * saturation (loop-saturation.ts), which sheds this replica's own excess.
   */
  notePressure(): void {
    this.lastPressureSecond = this.seconds.get().second;
    this.shown = { perSecond: 0, second: -Infinity };
  }

  noteAccepted(): void {
    this.seconds.get().counts.accepted += 1;
  }

  /** New payments allowed in the current second. */
  get cap(): number {
    const { second } = this.seconds.get();
    const finishedPerSecond = this.finishedPerSecond();
    const pressed = second - this.lastPressureSecond <= WINDOW_SECONDS;
    const fromPace = pressed
      ? this.pressedGrowth * finishedPerSecond
      : Math.max(this.growth * finishedPerSecond, this.shown.perSecond);
    return Math.max(this.floorPerSecond, Math.ceil(Math.min(fromPace, this.stepCap(pressed))));
  }

  /** What the second before allows: a fifth more, or up to twice as many on the way back to the pace shown. */
  private stepCap(pressed: boolean): number {
    const step = STEP_PER_SECOND * this.acceptedLastSecond;
    if (pressed) return step;
    return Math.max(step, Math.min(RECOVERY_STEP_PER_SECOND * this.acceptedLastSecond, this.shown.perSecond));
  }

  get acceptedThisSecond(): number {
    return this.seconds.get().counts.accepted;
  }

  get full(): boolean {
    return this.acceptedThisSecond >= this.cap;
  }

  /** A second is over: its finished payments join the window, and seconds with nothing in them count as zeros. */
  private close({ second, counts }: CountedSecond<'finished' | 'accepted'>, elapsed: number): void {
    // More than a window of empty seconds empties it.
    const gap = Math.min(elapsed, WINDOW_SECONDS + 1);
    this.pushFinished(counts.finished);
    this.remember(second);
    for (let i = 1; i < gap; i++) this.pushFinished(0);
    this.acceptedLastSecond = gap === 1 ? counts.accepted : 0;
  }

  private pushFinished(n: number): void {
    this.finished.push(n);
    if (this.finished.length > WINDOW_SECONDS) this.finished.shift();
  }

  private finishedPerSecond(): number {
    return this.finished.reduce((sum, n) => sum + n, 0) / WINDOW_SECONDS;
  }

  /** Keeps the best window of finished payments, until SHOWN_MEMORY_SECONDS old; none from a window with pressure. */
  private remember(second: number): void {
    if (second - this.lastPressureSecond <= WINDOW_SECONDS) return;
    const perSecond = this.finishedPerSecond();
    if (perSecond >= this.shown.perSecond || second - this.shown.second > SHOWN_MEMORY_SECONDS)
      this.shown = { perSecond, second };
  }
}
