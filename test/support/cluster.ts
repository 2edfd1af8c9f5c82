import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { eventually } from './infra';

/** An admin client of the cluster for one use. */
export async function withAdmin<T>(brokers: string[], use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'tests', retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

type Partition = { partitionId: number; leader: number; replicas: number[]; isr: number[] };

async function everyPartition(admin: Admin): Promise<Array<{ topic: string } & Partition>> {
  const { topics } = await admin.fetchTopicMetadata({ topics: await admin.listTopics() });
  return topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, ...p })));
}

/**
 * Until every partition of every topic (consumer offsets included) has all its replicas in sync:
 * a restarted node has caught up, so the next fault starts from a whole cluster.
 */
export const awaitFullyReplicated = async (brokers: string[], timeoutMs = 90_000): Promise<void> =>
  void (await eventually(
    'every partition fully in sync',
    () =>
      withAdmin(brokers, async (admin) =>
        (await everyPartition(admin)).every((p) => p.isr.length === p.replicas.length) ? true : undefined,
      ),
    timeoutMs,
  ));

/** Until no partition is led by node `nodeId` any more: the controller has fenced it and moved its leaderships. */
export const awaitLeadershipMovedFrom = async (brokers: string[], nodeId: number, timeoutMs = 60_000): Promise<void> =>
  void (await eventually(
    `leaderships to move off node ${nodeId}`,
    () =>
      withAdmin(brokers, async (admin) =>
        (await everyPartition(admin)).every((p) => p.leader !== nodeId) ? true : undefined,
      ),
    timeoutMs,
  ));

/** The node id (from 1) leading the most partitions of `topics`: killing it moves the most work. */
export const busiestLeader = (brokers: string[], topics: string[]): Promise<number> =>
  withAdmin(brokers, async (admin) => {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics });
    const led = new Map<number, number>();
    for (const p of meta.flatMap((t) => t.partitions)) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    return [...led.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  });

/** The consumer groups, less the fan-out's: each gateway process has its own, which commits nothing. */
const groupIdsBesideBroadcast = async (admin: Admin): Promise<string[]> =>
  (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => !id.includes('broadcast'));

/** Who holds what in each group (the fan-out's aside), for a report. */
export const groupMembers = (brokers: string[]) =>
  withAdmin(brokers, async (admin) =>
    (await admin.describeGroups(await groupIdsBesideBroadcast(admin))).groups.map((g) => ({
      group: g.groupId,
      state: g.state,
      members: g.members.map((m) => m.clientHost + ' ' + m.memberId.slice(-8)),
    })),
  );

/**
 * For a report when work stops on some partitions of `topics`: each one's leader and, per
 * consumer group that commits on it, how far the group's commit is behind the partition's end.
 */
export const partitionProgress = (brokers: string[], topics: string[], partitions: number[]) =>
  withAdmin(brokers, async (admin) => {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics });
    const leaders = Object.fromEntries(
      meta.map((t) => [
        t.name,
        Object.fromEntries(
          t.partitions.filter((p) => partitions.includes(p.partitionId)).map((p) => [p.partitionId, p.leader]),
        ),
      ]),
    );
    const ends = new Map<string, string>();
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, p.high);
    const behind: Record<string, Record<string, Record<number, number>>> = {};
    for (const groupId of await groupIdsBesideBroadcast(admin))
      for (const { topic, partitions: committed } of await admin.fetchOffsets({ groupId })) {
        const lags = committed
          .filter((p) => partitions.includes(p.partition))
          .map((p): [number, number] => [p.partition, Number(ends.get(`${topic}/${p.partition}`)) - Number(p.offset)]);
        if (lags.length > 0) (behind[groupId] ??= {})[topic] = Object.fromEntries(lags);
      }
    return { partitions, leaders, behind };
  });

/** The copies and in-sync minimum of each topic, for assertions on how topics were created. */
export const topicDurability = (brokers: string[], topics: string[]) =>
  withAdmin(brokers, async (admin) => {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['min.insync.replicas'],
      })),
    });
    const minIsr = new Map(resources.map((r) => [r.resourceName, r.configEntries[0]?.configValue]));
    return meta.map((t) => ({
      topic: t.name,
      replicas: [...new Set(t.partitions.map((p) => p.replicas.length))],
      minInsyncReplicas: minIsr.get(t.name),
    }));
  });
