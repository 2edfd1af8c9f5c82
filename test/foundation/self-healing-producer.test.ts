import { createRequire } from 'node:module';
import {
  Partitioners,
  type Kafka,
  type Message,
  type ProducerConfig,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import { classifyFailure } from '../../common/failure-class';
import { PartialSendError, SelfHealingProducer } from '../../common/kafka/self-healing-producer';
import { createLogger } from '../../common/logger';

/**
 * kafkajs 2.2.4's own send loop (src/producer/sendMessages.js), run against a scripted two-broker
 * cluster: the retry after a broker failure skips every broker that already answered the send, so
 * partitions that moved to such a broker are never sent, and the send resolves all the same. Under
 * a broker kill -9 in the cluster suite this matches a paymaster's COMPLETED never written
 * (payments left PROCESSING with their money settled, and no warning naming them).
 */
const kafkajsInternals = createRequire(require.resolve('kafkajs'));
type SendMessages = (request: {
  acks: number;
  timeout: number;
  topicMessages: TopicMessages[];
}) => Promise<RecordMetadata[]>;
const createSendMessages = kafkajsInternals('./src/producer/sendMessages') as (deps: object) => SendMessages;
const createRetry = kafkajsInternals('./src/retry') as (options: object) => unknown;

const TOPIC = 't';
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** How broker 1 fails: killed with the request on the wire, or no longer the leader (a leader election). */
const FAILURES = {
  'killed mid-send': () =>
    Object.assign(new Error('Closed connection'), { name: 'KafkaJSConnectionClosedError', retriable: true }),
  'leadership moved': () =>
    Object.assign(new Error('This server is not the leader for that topic-partition'), {
      name: 'KafkaJSProtocolError',
      type: 'NOT_LEADER_FOR_PARTITION',
      retriable: true,
    }),
};

/** Partition 0 is led by broker 1, which fails the first send it gets; its partition then moves to broker 2. */
function scriptedCluster(failure: () => Error) {
  const leaders: Record<number, number> = { 0: 1, 1: 2 };
  const written: Record<number, string[]> = { 0: [], 1: [] };
  let broker1Alive = true;
  const broker = (nodeId: number) => ({
    nodeId,
    produce: async ({
      topicData,
    }: {
      topicData: Array<{ partitions: Array<{ partition: number; messages: Message[] }> }>;
    }) => {
      if (nodeId === 1 && broker1Alive) {
        broker1Alive = false;
        leaders[0] = 2;
        await new Promise((resolve) => setTimeout(resolve, 20)); // broker 2 has answered by now
        throw failure();
      }
      const partitions = topicData[0]!.partitions;
      for (const p of partitions) written[p.partition]!.push(...p.messages.map((m) => String(m.key)));
      return {
        topics: [
          {
            topicName: TOPIC,
            partitions: partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
          },
        ],
      };
    },
  });
  const brokers = { 1: broker(1), 2: broker(2) };
  const cluster = {
    refreshMetadataIfNecessary: () => Promise.resolve(),
    refreshMetadata: () => Promise.resolve(),
    addMultipleTargetTopics: () => Promise.resolve(),
    isConnected: () => true,
    removeBroker: () => undefined,
    findTopicPartitionMetadata: () => [0, 1].map((partitionId) => ({ partitionId, leader: leaders[partitionId] })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) =>
      partitions.reduce<Record<number, number[]>>((byLeader, id) => {
        const leader = leaders[Number(id)]!;
        return { ...byLeader, [leader]: [...(byLeader[leader] ?? []), Number(id)] };
      }, {}),
    findBroker: ({ nodeId }: { nodeId: number }) => Promise.resolve(brokers[nodeId as 1 | 2]),
  };
  const eosManager = {
    acquireBrokerLock: () => Promise.resolve(),
    releaseBrokerLock: () => Promise.resolve(),
    isTransactional: () => false,
    getSequence: () => 0,
    updateSequence: () => undefined,
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
  };
  /** A kafkajs client whose producers run kafkajs' send loop against this cluster. */
  const kafka = {
    producer: (config: ProducerConfig = {}) => {
      const send = createSendMessages({
        logger: quiet,
        cluster,
        eosManager,
        partitioner: (config.createPartitioner ?? Partitioners.DefaultPartitioner)(),
        retrier: createRetry({ initialRetryTime: 5, retries: 3 }),
      });
      return {
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        sendBatch: ({ acks = -1, topicMessages = [] }: { acks?: number; topicMessages?: TopicMessages[] }) =>
          send({ acks, timeout: 1000, topicMessages }),
      };
    },
  } as unknown as Kafka;
  return { kafka, written };
}

/** Keys that land on each of the two partitions. */
function keysOnBothPartitions(): string[] {
  const partitionOf = Partitioners.DefaultPartitioner();
  const metadata = [0, 1].map((partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
  const keys = Array.from({ length: 8 }, (_, i) => `payment-${i}`);
  const on = (p: number) =>
    keys.filter((key) => partitionOf({ topic: TOPIC, partitionMetadata: metadata, message: { key, value: '' } }) === p);
  expect(on(0).length).toBeGreaterThan(0);
  expect(on(1).length).toBeGreaterThan(0);
  return keys;
}

const batchOf = (keys: string[]) => ({
  acks: -1,
  topicMessages: [{ topic: TOPIC, messages: keys.map((key) => ({ key, value: key })) }],
});

describe.each(Object.entries(FAILURES))('a send across brokers when one is %s', (_, failure) => {
  it('is resolved by kafkajs without writing the partitions that moved to a broker that had answered', async () => {
    const { kafka, written } = scriptedCluster(failure);
    const keys = keysOnBothPartitions();
    const producer = kafka.producer();
    await expect(producer.sendBatch(batchOf(keys))).resolves.toEqual([expect.objectContaining({ partition: 1 })]);
    expect(written[0]).toEqual([]); // never sent, although the send resolved
    expect(written[1]!.length).toBeGreaterThan(0);
  });

  it('fails transient in SelfHealingProducer, and sent again it writes every message', async () => {
    const { kafka, written } = scriptedCluster(failure);
    const keys = keysOnBothPartitions();
    const producer = new SelfHealingProducer(kafka, createLogger('test', 'silent'));
    const batch = batchOf(keys);
    const first = await producer.sendBatch(batch).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(PartialSendError);
    expect(first).toMatchObject({ partitions: [`${TOPIC}:0`] });
    expect(classifyFailure(first)).toBe('transient');
    // What the callers do with a transient failure (BatchPublisher, the outbox sweeper): send it again.
    await producer.sendBatch(batch);
    expect(new Set([...written[0]!, ...written[1]!])).toEqual(new Set(keys));
    await producer.stop();
  });
});

/** A kafkajs client whose producers count what they were handed and answer when told to. */
function heldKafka() {
  const handed: string[] = [];
  const answers: Array<() => void> = [];
  let producers = 0;
  const kafka = {
    producer: () => {
      producers += 1;
      return {
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        send: ({ topic, messages }: { topic: string; messages: Message[] }) => {
          handed.push(String(messages[0]!.value));
          return new Promise<RecordMetadata[]>((resolve) =>
            answers.push(() => resolve([{ topicName: topic, partition: 0, errorCode: 0 }])),
          );
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, handed, answer: () => answers.shift()?.(), producers: () => producers };
}

describe('SelfHealingProducer hands kafkajs one send at a time', () => {
  const record = (value: string) => ({ topic: TOPIC, acks: 0, messages: [{ key: 'k', value }] });

  it('starts a send only once the one before it has settled, in order', async () => {
    const { kafka, handed, answer } = heldKafka();
    const producer = new SelfHealingProducer(kafka, createLogger('test', 'silent'), 10_000);
    const first = producer.send(record('first'));
    const second = producer.send(record('second'));
    await new Promise(setImmediate);
    expect(handed).toEqual(['first']);
    answer();
    await first;
    await new Promise(setImmediate);
    expect(handed).toEqual(['first', 'second']);
    answer();
    await second;
    await producer.stop();
  });

  it('never hands kafkajs a send whose time ran out behind others, nor replaces the producer for it', async () => {
    const { kafka, handed, producers } = heldKafka();
    const producer = new SelfHealingProducer(kafka, createLogger('test', 'silent'), 200);
    const stuck = producer.send(record('stuck')).catch((e: unknown) => e);
    const behind = producer.send(record('behind')).catch((e: unknown) => e);
    expect(await stuck).toMatchObject({ message: 'Kafka send timed out after 200 ms' });
    expect(await behind).toMatchObject({ message: 'Kafka send (behind earlier sends) timed out after 200 ms' });
    expect(handed).toEqual(['stuck']);
    expect(producers()).toBe(1); // replaced once, for the send that was on the wire; no new one made for nothing
    await producer.stop();
  });

  it('refuses the sends still waiting when it stops, after the one on the wire settles', async () => {
    const { kafka, handed, answer } = heldKafka();
    const producer = new SelfHealingProducer(kafka, createLogger('test', 'silent'), 10_000);
    const onTheWire = producer.send(record('on the wire'));
    const waiting = producer.send(record('waiting')).catch((e: unknown) => e);
    await new Promise(setImmediate);
    const stopped = producer.stop();
    answer();
    await onTheWire;
    expect(await waiting).toMatchObject({ message: 'Kafka producer stopped before this send' });
    await stopped;
    expect(handed).toEqual(['on the wire']);
    expect(classifyFailure(await producer.send(record('after')).catch((e: unknown) => e))).toBe('transient');
  });
});
