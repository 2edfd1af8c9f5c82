import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import { cachedFor } from '../cached-for';
import { withTimeout } from '../with-timeout';

/** A consumer group and the topics whose committed offsets it owns. */
export interface CommittingGroup {
  groupId: string;
  topics: string[];
  /** As subscribed: where the group starts on a partition it has not committed on yet. */
  fromBeginning: boolean;
}

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  lag: number;
  /** The partition's end offset: with `lag`, how far the group has come. */
  end: number;
}

/** Messages each group has yet to commit: the partition's end offset minus the group's committed one. */
export async function consumerLag(admin: Admin, groups: CommittingGroup[]): Promise<PartitionLag[]> {
  const topics = [...new Set(groups.flatMap((g) => g.topics))];
  const offsets = await Promise.all(
    topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const),
  );
  const ends = new Map(offsets.map(([topic, partitions]) => [topic, new Map(partitions.map((p) => [p.partition, p]))]));
  const committed = await Promise.all(
    groups.map(async (group) => ({
      group,
      topics: await admin.fetchOffsets({ groupId: group.groupId, topics: group.topics }),
    })),
  );
  return committed.flatMap(({ group, topics: byTopic }) =>
    byTopic.flatMap(({ topic, partitions }) =>
      partitions.map(({ partition, offset }) => {
        const end = ends.get(topic)?.get(partition);
        const high = Number(end?.high ?? 0);
        // Not committed yet: everything retained is ahead of a group reading from the beginning,
        // nothing of one that started at the end.
        const from = offset !== '-1' ? Number(offset) : group.fromBeginning ? Number(end?.low ?? 0) : high;
        return { group: group.groupId, topic, partition, lag: Math.max(0, high - from), end: high };
      }),
    ),
  );
}

/**
 * `kafka_consumer_lag{group,topic,partition}`, read from the broker at scrape time, at most once
 * per `cacheMs` and within `timeoutMs`. When the broker does not answer in time the series are
 * left out of that scrape rather than shown stale.
 */
export function registerConsumerLag(
  registry: Registry,
  admin: Admin,
  groups: CommittingGroup[],
  options = { cacheMs: 5000, timeoutMs: 2000 },
): void {
  const read = cachedFor(options.cacheMs, () => consumerLag(admin, groups));
  new Gauge({
    name: 'kafka_consumer_lag',
    help: 'Messages a consumer group has not committed yet, per partition (end offset minus committed offset)',
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      this.reset();
      const lags = await withTimeout(read(), options.timeoutMs, 'consumer lag').catch(() => []);
      for (const { group, topic, partition, lag } of lags) this.set({ group, topic, partition }, lag);
    },
  });
}
