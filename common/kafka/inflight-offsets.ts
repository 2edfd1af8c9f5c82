/**
 * Which offsets of a consumed partition are safe to commit when messages finish out of order.
 *
 * A consumer that keeps thousands of messages in flight at once finishes them in any order, but a
 * Kafka commit says "everything below this offset is done". So per partition we remember the
 * offsets started, in order, and commit only up to the lowest one not yet finished: a crash then
 * redelivers exactly the unfinished messages (and some finished ones, which must be idempotent).
 *
 * Offsets are JS numbers: exact up to 2^53, far beyond what a partition reaches.
 */

/** One started message; `done()` marks it finished (idempotent, and harmless once its partition was dropped). */
export interface Ticket {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  done(): void;
}

export interface CommitPosition {
  topic: string;
  partition: number;
  /** The next offset to consume, as Kafka's commit expects it. */
  offset: string;
}

class PartitionOffsets {
  /** Started offsets in start (= offset) order; `head` skips the finished prefix without shifting. */
  private started: number[] = [];
  private head = 0;
  private readonly finishedAhead = new Set<number>();
  private lowestStarted = Number.POSITIVE_INFINITY;
  private highestStarted = -1;
  committed = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Null when the offset was already started here: a redelivery of something still tracked. */
  start(offset: number): Ticket | null {
    if (offset <= this.highestStarted) return null;
    this.lowestStarted = Math.min(this.lowestStarted, offset);
    this.highestStarted = offset;
    this.started.push(offset);
    let finished = false;
    return {
      topic: this.topic,
      partition: this.partition,
      offset,
      done: () => {
        if (finished) return;
        finished = true;
        this.finish(offset);
      },
    };
  }

  private finish(offset: number): void {
    this.finishedAhead.add(offset);
    while (this.head < this.started.length && this.finishedAhead.delete(this.started[this.head] as number)) this.head++;
    // Compact now and then so the array does not grow with every message ever consumed.
    if (this.head > 1024 && this.head * 2 > this.started.length) {
      this.started = this.started.slice(this.head);
      this.head = 0;
    }
  }

  /** Lowest unfinished offset, or one past the last started when all are finished; -1 before any start. */
  committable(): number {
    if (this.head < this.started.length) return this.started[this.head] as number;
    return this.highestStarted < 0 ? -1 : this.highestStarted + 1;
  }

  /** Whether `offset` lies below everything this partition's tracking ever started. */
  precedes(offset: number): boolean {
    return offset < this.lowestStarted;
  }

  get unfinished(): number {
    return this.started.length - this.head;
  }
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class InflightOffsets {
  private readonly partitions = new Map<string, PartitionOffsets>();

  /** Starts tracking a message; null means it is already tracked (skip it, it is being or was handled). */
  start(topic: string, partition: number, offset: string | number): Ticket | null {
    const key = keyOf(topic, partition);
    let state = this.partitions.get(key);
    // Below everything tracked: the consumer went back to a committed offset older than where this
    // tracking began (a batch fetched before a rebalance began it). Those offsets were never
    // started here, so tracking starts over; the messages above come again and get new tickets.
    if (!state || state.precedes(Number(offset))) {
      state = new PartitionOffsets(topic, partition);
      this.partitions.set(key, state);
    }
    return state.start(Number(offset));
  }

  /** Positions that moved since they were last marked committed. */
  toCommit(): CommitPosition[] {
    const out: CommitPosition[] = [];
    for (const state of this.partitions.values()) {
      const next = state.committable();
      if (next > state.committed) out.push({ topic: state.topic, partition: state.partition, offset: String(next) });
    }
    return out;
  }

  markCommitted(positions: CommitPosition[]): void {
    for (const p of positions) {
      const state = this.partitions.get(keyOf(p.topic, p.partition));
      if (state) state.committed = Math.max(state.committed, Number(p.offset));
    }
  }

  /**
   * Offers every partition's position again at the next `toCommit`, moved or not: kafkajs resolves
   * a commit it skipped (its run stopping) as if it were made, so a position marked committed may
   * not be.
   */
  forgetCommitted(): void {
    for (const state of this.partitions.values()) state.committed = -1;
  }

  /**
   * Forgets partitions this consumer no longer owns: their tickets become no-ops and their next
   * owner redoes the unfinished messages from the last commit.
   */
  retain(owned: (topic: string, partition: number) => boolean): Array<{ topic: string; partition: number }> {
    const dropped: Array<{ topic: string; partition: number }> = [];
    for (const [key, state] of this.partitions) {
      if (owned(state.topic, state.partition)) continue;
      this.partitions.delete(key);
      dropped.push({ topic: state.topic, partition: state.partition });
    }
    return dropped;
  }

  /** Messages started and not yet finished, over all partitions. */
  unfinished(): number {
    let n = 0;
    for (const state of this.partitions.values()) n += state.unfinished;
    return n;
  }
}
