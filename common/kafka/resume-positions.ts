import type { Consumer, ConsumerGroupJoinEvent } from 'kafkajs';

/**
 * Where a process's private group (its own, one member) goes on reading each partition after
 * kafkajs joins it again: on a restart after a crash, a broker outage or a rebalance, kafkajs
 * builds a new member, which would begin every partition without a commit at its starting point
 * (the log's end, for these groups) and skip what was produced meanwhile. So every join seeks
 * each assigned partition to the offset after the last batch handled here, or to where it was
 * seeded to begin. Kept in memory for the life of the process: such a group is never read by
 * another, so the broker need not hold it.
 *
 * A partition neither seeded nor read yet (added to the topic since) keeps kafkajs' own start.
 */
export class ResumePositions {
  private readonly next = new Map<number, string>();

  /** Where partitions without a position yet begin; one that has one (seeded or read) keeps it. */
  seed(starts: ReadonlyArray<{ partition: number; offset: string }>): void {
    for (const { partition, offset } of starts) if (!this.next.has(partition)) this.next.set(partition, offset);
  }

  /** After a partition's messages up to `lastOffset` were handled. */
  advance(partition: number, lastOffset: string): void {
    this.next.set(partition, (BigInt(lastOffset) + 1n).toString());
  }

  /** Seeks on every join of `consumer` (kafkajs' GROUP_JOIN comes before the join's first fetch). */
  follow(consumer: Consumer, topic: string): void {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }: ConsumerGroupJoinEvent) => {
      for (const partition of payload.memberAssignment[topic] ?? []) {
        const offset = this.next.get(partition);
        if (offset !== undefined) consumer.seek({ topic, partition, offset });
      }
    });
  }
}
