import { Kafka, logLevel, type Producer } from 'kafkajs';
import { TOPICS, dlqOf, topicNames, type TopicKey, type TopicNames } from '../../common/kafka/topics';
import { useFastRecordDecoder } from '../../common/kafka/record-decoder';
import { SERVICES } from '../../infra/stack';
import { collect, eventually } from '../support/infra';
import { poisonValues } from '../support/poison';
import { completeOnEveryPartition, startE2E, type E2ESystem } from './system';

/**
 * Poison on every partition of every topic of a running system, ahead of real traffic: each
 * service parks what it cannot read in the topic's DLQ (money-operation-results, read by every
 * paymaster process, is parked by the owner of the `payments` partition of the same number),
 * none crashes or stalls, and payments on every partition complete.
 */
// The DLQ copies keep their 12,000 headers: this process reads them as the services do, in one pass.
useFastRecordDecoder();

let e2e: E2ESystem;
beforeAll(async () => {
  e2e = await startE2E('poison', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '5', PAYMASTER_DELAY_MAX_MS: '20' },
  });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

/** Every poison value on every partition of the topic; returns the `partition:offset` each was written at. */
async function poisonEveryPartition(producer: Producer, names: TopicNames, topic: TopicKey): Promise<string[]> {
  const values = poisonValues(topic);
  const positions: string[] = [];
  for (let partition = 0; partition < TOPICS[topic].partitions; partition++) {
    const [written] = await producer.send({
      topic: names[topic],
      acks: -1,
      messages: values.map(({ what, value, headers }) => ({ key: `poison ${what}`, value, headers, partition })),
    });
    const base = BigInt(written!.baseOffset!);
    values.forEach((_, i) => positions.push(`${partition}:${base + BigInt(i)}`));
  }
  return positions;
}

it('parks every poison message in its DLQ, keeps every service up, and completes payments on every partition', async () => {
  const names = topicNames(e2e.system.env.KAFKA_TOPIC_PREFIX);
  const collector = await collect(Object.values(names).map(dlqOf));
  const kafka = new Kafka({ brokers: e2e.system.infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const parkedIn = (topic: TopicKey): Set<string> =>
    new Set(
      collector.messages
        .filter((m) => m.topic === dlqOf(names[topic]))
        .map((m) => `${m.headers['dlq-source-partition']}:${m.headers['dlq-source-offset']}`),
    );
  const allParked = (topic: TopicKey, positions: string[]) =>
    eventually(
      `every poison message of ${topic} in its DLQ`,
      () => (positions.every((p) => parkedIn(topic).has(p)) ? true : undefined),
      60_000,
    );
  try {
    const expected: Partial<Record<TopicKey, string[]>> = {};
    for (const topic of ['payments', 'statusPayments', 'moneyOperations'] as const)
      expected[topic] = await poisonEveryPartition(producer, names, topic);
    // Only the owner of a payments partition parks the results of that number: once the intake
    // has parked poison from all 8, this (only) paymaster process owns them all.
    await allParked('payments', expected.payments!);
    expected.moneyOperationResults = await poisonEveryPartition(producer, names, 'moneyOperationResults');

    await completeOnEveryPartition(e2e, 'survivor');

    for (const topic of Object.keys(expected) as TopicKey[]) await allParked(topic, expected[topic]!);
    for (const m of collector.messages) {
      expect(m.headers['dlq-class']).toBe('deterministic');
      expect(m.headers['dlq-error']).toMatch(/schema violation|not JSON|empty message value/);
    }
    for (const name of SERVICES) {
      expect(e2e.system.service(name)?.child.exitCode).toBeNull();
      expect((await fetch(`${e2e.system.url(name)}/readyz`)).status).toBe(200);
    }
  } finally {
    await producer.disconnect();
    await collector.stop();
  }
}, 150_000);
