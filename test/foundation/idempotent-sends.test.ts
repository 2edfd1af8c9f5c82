import { Kafka, logLevel } from 'kafkajs';
import { SelfHealingProducer } from '../../common/kafka/self-healing-producer';
import { createLogger } from '../../common/logger';
import { startAnswerDropper, type AnswerDropper } from '../support/answer-dropper';
import { kafkaBrokers, testKafka, uniqueName } from '../support/infra';

/**
 * kafkajs' idempotent producer numbers each partition's batches. When a produce fails it winds the
 * partition's number back and lets the next send waiting for that broker go, which takes the
 * number again; if the failed batch had in fact been written, the broker answers the newcomer as
 * a duplicate of it (success, the old offset) and never writes it. A real broker, a real hop.
 */
let dropper: AnswerDropper;
beforeAll(async () => {
  dropper = await startAnswerDropper(kafkaBrokers());
});
afterAll(() => dropper?.close());

async function oneLinePartitionTopic(): Promise<string> {
  const topic = uniqueName('sequence');
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Every value in the topic, read up to its end as it stands now. */
async function valuesIn(topic: string): Promise<string[]> {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const values: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: ({ message }) => {
        values.push(String(message.value));
        if (BigInt(message.offset) + 1n >= BigInt(end!.high)) resolve();
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

describe('two sends on one producer, the first written but its answer lost (real broker)', () => {
  it('both land: the second waits for the first to be settled before it takes a sequence number', async () => {
    const topic = await oneLinePartitionTopic();
    const kafka = new Kafka({
      brokers: kafkaBrokers(),
      socketFactory: dropper.socketFactory,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, retries: 5 },
    });
    const producer = new SelfHealingProducer(kafka, createLogger('test', 'silent'), 30_000);
    try {
      await producer.send({ topic, messages: [{ key: 'k', value: 'warm-up' }] });
      const onItsWay = dropper.loseNextProduceAnswer();
      const first = producer.send({ topic, messages: [{ key: 'k', value: 'first' }] });
      await onItsWay;
      const second = producer.send({ topic, messages: [{ key: 'k', value: 'second' }] });
      await Promise.all([first, second]);
      const values = await valuesIn(topic);
      expect(values).toContain('second');
      expect(values.filter((v) => v === 'first')).toHaveLength(1); // the retry was known as a duplicate
    } finally {
      await producer.stop();
    }
  });
});
