import { PerSecondCounts } from './per-second-counts';

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
  private refusedShareLastSecond = 0;
  private readonly seconds: PerSecondCounts<'asked' | 'refused'>;

  constructor(
    readonly maxUtilization: number,
    /** The loop's utilization over the last sample, 0-1 (LoadSignals). */
    private readonly utilization: () => number,
    now: () => number = Date.now,
  ) {
    this.seconds = new PerSecondCounts(
      ['asked', 'refused'],
      ({ counts: { asked, refused } }, elapsed) => {
        this.refusedShareLastSecond = elapsed === 1 && asked > 0 ? refused / asked : 0;
      },
      now,
    );
  }

  /** One createPayment asked to enter, and whether it was refused. */
  noteAsked(refused: boolean): void {
    const { counts } = this.seconds.get();
    counts.asked += 1;
    if (refused) counts.refused += 1;
  }

  /** The loop's utilization when it counts as saturated, else undefined. */
  get saturated(): number | undefined {
    this.seconds.get();
    const utilization = this.utilization();
    return this.maxUtilization > 0 && utilization > this.maxUtilization && this.refusedShareLastSecond >= REFUSING_SHARE
      ? utilization
      : undefined;
  }
}
