/** The share of payments asked for in a second that must have been refused for a busy loop to count. */
const REFUSING_SHARE = 0.1;

/**
 * The gateway's own event loop as a reason to refuse: busy for more than `maxUtilization` of the
 * last sample while the second before refused at least REFUSING_SHARE of the payments asked for.
 * A busy loop that keeps up refuses little (a closed loop of callers keeps it busy, and nothing
 * waits); a busy loop that is refusing an excess reads requests later than they arrive, a wait no
 * latency the gateway measures includes: at 3 x 806/s offered its concurrency limit and slow
 * start let in more than it could answer, and callers waited up to 20 s to be read
 * (docs/performance.md, fifteenth round).
 */
export class LoopSaturation {
  private current = { second: 0, asked: 0, refused: 0 };
  private refusedShareLastSecond = 0;

  constructor(
    readonly maxUtilization: number,
    /** The loop's utilization over the last sample, 0-1 (LoadSignals). */
    private readonly utilization: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** One createPayment asked to enter, and whether it was refused. */
  noteAsked(refused: boolean): void {
    const c = this.roll();
    c.asked += 1;
    if (refused) c.refused += 1;
  }

  /** The loop's utilization when it counts as saturated, else undefined. */
  get saturated(): number | undefined {
    this.roll();
    const utilization = this.utilization();
    return this.maxUtilization > 0 && utilization > this.maxUtilization && this.refusedShareLastSecond >= REFUSING_SHARE
      ? utilization
      : undefined;
  }

  private roll(): { second: number; asked: number; refused: number } {
    const second = Math.floor(this.now() / 1000);
    if (second === this.current.second) return this.current;
    const { asked, refused } = this.current;
    this.refusedShareLastSecond = second === this.current.second + 1 && asked > 0 ? refused / asked : 0;
    this.current = { second, asked: 0, refused: 0 };
    return this.current;
  }
}
