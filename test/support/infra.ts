import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { ensureTopics } from '../../common/kafka/client';
import type { TopicNames } from '../../common/kafka/topics';
import { ensureDatabase } from '../../infra/postgres';
import { waitFor } from '../../common/wait-for';

export const kafkaBrokers = (): string[] => required('TEST_KAFKA_BROKERS').split(',');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest's global setup (npm test)`);
  return value;
}

export const uniqueName = (label: string): string => `${label}_${randomBytes(5).toString('hex')}`;

/** A fresh database on the test Postgres server, so suites never see each other's rows. */
export const freshDatabase = (label: string): Promise<string> =>
  ensureDatabase(required('TEST_DATABASE_SERVER_URL'), uniqueName(`t_${label}`).toLowerCase());

export const testKafka = (): Kafka =>
  new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, clientId: 'tests' });

/** Every topic (and DLQ) under a prefix of the suite's own. */
export async function freshTopics(label: string): Promise<{ prefix: string; names: TopicNames }> {
  const prefix = `${uniqueName(label)}.`;
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return { prefix, names: await ensureTopics(admin, prefix) };
  } finally {
    await admin.disconnect();
  }
}

/** Waits for `probe` to return a value; fails with `what` after `timeoutMs`. */
export const eventually = <T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> => waitFor(what, probe, timeoutMs, 50);

/**
 * Waits until a consumer group has committed every partition of a topic up to its current end:
 * everything produced so far has been consumed and its work made durable.
 */
export async function awaitCommittedToEnd(
  groupId: string,
  topic: string,
  timeoutMs = 20_000,
  brokers = kafkaBrokers(),
): Promise<void> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'tests' }).admin();
  await admin.connect();
  try {
    await eventually(
      `${groupId} to commit ${topic} to its end`,
      async () => {
        const [ends, [committed]] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId, topics: [topic] }),
        ]);
        const done = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
        return ends.every((e) => e.offset === '0' || done.get(e.partition) === e.offset) ? true : undefined;
      },
      timeoutMs,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Collects every message of some topics from the beginning, for assertions. */
export async function collect(topics: string[]): Promise<{
  messages: Array<{ topic: string; key: string; value: unknown; headers: Record<string, string> }>;
  stop: () => Promise<void>;
}> {
  const consumer: Consumer = testKafka().consumer({ groupId: uniqueName('collector') });
  const messages: Array<{ topic: string; key: string; value: unknown; headers: Record<string, string> }> = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      let value: unknown = message.value?.toString();
      try {
        value = JSON.parse(String(value));
      } catch {
        // keep the raw text: malformed messages are part of what tests look at
      }
      messages.push({ topic, key: message.key?.toString() ?? '', value, headers });
      return Promise.resolve();
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}
