import { ConfigResourceTypes, type Admin, type ITopicMetadata } from 'kafkajs';
import { waitFor } from '../wait-for';
import { dlqOf, type TopicNames } from './topics';

/** How many copies of each partition a topic keeps, and how many must hold a write before it is acknowledged. */
export interface Durability {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/**
 * Three copies with two in sync once the cluster has three brokers: one broker may die (or its
 * disk) without losing an acknowledged write or refusing new ones. Fewer brokers give what they
 * can; one broker keeps the single copy it always had.
 */
export function durabilityFor(brokers: number): Durability {
  return { replicationFactor: Math.min(3, Math.max(1, brokers)), minInsyncReplicas: brokers >= 3 ? 2 : 1 };
}

/** The durability the brokers registered right now allow; a node that is down is not counted. */
export async function clusterDurability(admin: Admin): Promise<Durability> {
  const { brokers } = await admin.describeCluster();
  return durabilityFor(brokers.length);
}

/** Topic settings for `createTopics`: a single broker keeps its defaults, as before clusters existed. */
export function creationSettings(d: Durability): {
  replicationFactor?: number;
  configEntries?: Array<{ name: string; value: string }>;
} {
  if (d.replicationFactor === 1) return {};
  return {
    replicationFactor: d.replicationFactor,
    configEntries: [{ name: 'min.insync.replicas', value: String(d.minInsyncReplicas) }],
  };
}

/** Every topic of a deployment with its DLQ. */
export const withDlqs = (names: TopicNames): string[] => Object.values(names).flatMap((topic) => [topic, dlqOf(topic)]);

/**
 * Existing topics that keep fewer copies, or acknowledge with fewer in sync, than the cluster
 * allows, one line each. Such a topic was created on a smaller cluster (or by hand); Kafka never
 * raises a replication factor by itself, so an operator has to (kafka-reassign-partitions).
 */
export async function weakTopics(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<string[]> {
  const wanted = await clusterDurability(admin);
  const meta = await topicsWithLeaders(admin, topics, timeoutMs);
  // Asked again like the metadata: the broker it reaches may not know a topic created just now.
  const configs = await waitFor(
    `min.insync.replicas of ${topics.join(', ')}`,
    () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['min.insync.replicas'],
        })),
      }),
    timeoutMs,
    100,
  );
  const minIsrOf = new Map(
    configs.resources.map((r) => [r.resourceName, Number(r.configEntries[0]?.configValue ?? 1)]),
  );
  return meta.flatMap((t) => {
    const replicas = Math.min(...t.partitions.map((p) => p.replicas.length));
    const minIsr = minIsrOf.get(t.name) ?? 1;
    if (replicas >= wanted.replicationFactor && minIsr >= wanted.minInsyncReplicas) return [];
    return [
      `${t.name}: replication factor ${replicas}, min.insync.replicas ${minIsr}; this cluster allows ${wanted.replicationFactor} and ${wanted.minInsyncReplicas}`,
    ];
  });
}

/**
 * The topics' metadata once every partition has a leader. A topic just created is unknown for a
 * moment to brokers that have not yet replayed its creation (UNKNOWN_TOPIC_OR_PARTITION), and
 * each request may reach another broker; kafkajs' own `waitForLeaders` gives up on that error,
 * this asks again.
 */
export async function topicsWithLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<ITopicMetadata[]> {
  return waitFor(
    `leaders of ${topics.join(', ')}`,
    async () => {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      return meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? meta : undefined;
    },
    timeoutMs,
    100,
  );
}
