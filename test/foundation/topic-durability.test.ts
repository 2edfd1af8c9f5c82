import type { Admin } from 'kafkajs';
import { weakTopics } from '../../common/kafka/topic-durability';

/**
 * On a three-broker cluster a topic created a moment ago is unknown to a broker that has not yet
 * replayed its creation, and each admin request may reach another broker: the cluster suite once
 * failed at start-up on exactly that (UNKNOWN_TOPIC_OR_PARTITION from the metadata read right after
 * creating the topics). A scripted admin answers like such a broker first, then like the others.
 */
const unknownTopic = (): Error =>
  Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });

function laggingAdmin(failuresEach: number, replicas: number, minIsr: string) {
  const calls = { metadata: 0, configs: 0 };
  const admin = {
    describeCluster: () => Promise.resolve({ brokers: [{}, {}, {}], controller: 1, clusterId: 'c' }),
    fetchTopicMetadata: ({ topics }: { topics: string[] }) => {
      if (calls.metadata++ < failuresEach) return Promise.reject(unknownTopic());
      const partition = { partitionId: 0, leader: 1, replicas: Array.from({ length: replicas }, (_, i) => i), isr: [] };
      return Promise.resolve({ topics: topics.map((name) => ({ name, partitions: [partition] })) });
    },
    describeConfigs: ({ resources }: { resources: Array<{ name: string }> }) => {
      if (calls.configs++ < failuresEach) return Promise.reject(unknownTopic());
      return Promise.resolve({
        resources: resources.map((r) => ({
          resourceName: r.name,
          configEntries: [{ configName: 'min.insync.replicas', configValue: minIsr }],
        })),
      });
    },
  };
  return { admin: admin as unknown as Admin, calls };
}

test('a broker that does not know a new topic yet is asked again, for its metadata and its configs', async () => {
  const { admin, calls } = laggingAdmin(2, 3, '2');
  await expect(weakTopics(admin, ['payments', 'payments.dlq'])).resolves.toEqual([]);
  expect(calls).toEqual({ metadata: 3, configs: 3 });
});

test('a topic weaker than the cluster allows is still named once the brokers know it', async () => {
  const { admin } = laggingAdmin(1, 1, '1');
  await expect(weakTopics(admin, ['payments'])).resolves.toEqual([
    'payments: replication factor 1, min.insync.replicas 1; this cluster allows 3 and 2',
  ]);
});

test('a topic that stays unknown fails after the timeout, with the broker’s answer in the error', async () => {
  const { admin } = laggingAdmin(Number.POSITIVE_INFINITY, 3, '2');
  await expect(weakTopics(admin, ['payments'], 300)).rejects.toThrow(/leaders of payments.*does not host/);
});
