import type { Admin, Kafka } from 'kafkajs';
import { ResumePositions } from '../../common/kafka/resume-positions';
import { waitFor } from '../../common/wait-for';

/**
 * Producers stamp events with their own clock; a partition the fan-out has not read yet is read
 * from this much before the gateway began, so that a producer's clock a little behind ours does not
 * hide an event.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 5000;
/** Within a Kafka-side attempt: past it the attempt fails and is tried again (kafka-side.ts). */
const FILL_TIMEOUT_MS = 10_000;

/**
 * Where the fan-out begins each partition of `status-payments`, for the life of the process.
 *
 * The fan-out's group is this process's alone and never commits, so every join (its first start,
 * each restart kafkajs makes after a crash, a rebalance, each new attempt of the Kafka side) seeks
 * each partition to where the fan-out left off (ResumePositions). Events produced while it was
 * away would otherwise reach no subscriber: a page watching a payment would wait forever for a
 * COMPLETED that went by.
 *
 * A partition it has not read yet begins at the earlier of two points. A subscriber starts from
 * the payment's row, so everything the database may not show yet must reach it: the status
 * writer's committed offset is where that begins. And a subscriber may have come before the
 * fan-out joined: since the gateway began, then. Events read twice reach no subscriber twice
 * (each drops what is not newer than what it sent).
 */
export class FanOutPositions extends ResumePositions {
  /**
   * `since`: when the gateway began (epoch ms); `writerGroupId`: the status writer's group, whose
   * commits follow what the database holds.
   */
  constructor(
    private readonly since: number,
    private readonly writerGroupId: string,
  ) {
    super();
  }

  /**
   * Finds where to begin each partition not read yet; before a fan-out starts. With an admin of
   * its own: kafkajs' admin does not refresh its metadata when a partition's leader has moved, and
   * a topic just created may not have its leaders in place yet, which a few tries outlast.
   */
  async fillFrom(kafka: Kafka, topic: string): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      this.seed(
        await waitFor(`where ${topic} begins for the fan-out`, () => this.starts(admin, topic), FILL_TIMEOUT_MS, 200),
      );
    } finally {
      await admin.disconnect();
    }
  }

  private async starts(admin: Admin, topic: string): Promise<Array<{ partition: number; offset: string }>> {
    const [sinceBegan, [writer]] = await Promise.all([
      admin.fetchTopicOffsetsByTimestamp(topic, this.since - CLOCK_SKEW_ALLOWANCE_MS),
      admin.fetchOffsets({ groupId: this.writerGroupId, topics: [topic] }),
    ]);
    const written = new Map(writer?.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    return sinceBegan.map(({ partition, offset }) => {
      const committed = written.get(partition) ?? -1n; // -1: nothing committed yet
      return { partition, offset: committed >= 0n && committed < BigInt(offset) ? committed.toString() : offset };
    });
  }
}
