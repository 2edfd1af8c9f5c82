import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { decode } from '../../common/kafka/contracts';
import { groupSession } from '../../common/kafka/client';
import { decodeOrPark, processIsolatingPoison, type Settled } from '../../common/kafka/poison-isolation';
import { batchScope } from '../../common/kafka/transient-retry';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { waitForGroupJoin } from '../../common/kafka/group-join';
import { watchConsumer } from '../../common/kafka/consumer-watchdog';
import { TOPICS, type TopicNames } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import { inMessageSpan, inMessageSpans, tracerOf } from '../../common/tracing';
import type { PaymentStore } from './payment-store';
import type { StatusHub } from './status-hub';

const TRACER = tracerOf('gateway');

export interface ConsumerSettings {
  sessionTimeoutMs: number;
  stallMs: number;
}

/**
 * Writes one batch: invalid events and events the database refuses for good go to the DLQ, one
 * at a time; a database that is briefly away is waited for in place.
 */
async function writeBatch(payload: EachBatchPayload, store: PaymentStore, producer: Sender, logger: Logger): Promise<Settled> {
  const { batch } = payload;
  const scope = batchScope(payload, logger);
  const target = { producer, topic: batch.topic, partition: batch.partition };
  const decoded = await decodeOrPark('statusPayments', batch.messages, target, scope);
  if (decoded.settled === 'abandoned') return 'abandoned';
  const messages = decoded.items.map((i) => i.message);
  return inMessageSpans(TRACER, TOPICS.statusPayments.name, batch.partition, messages, () =>
    processIsolatingPoison(decoded.items, (items) => store.applyStatuses(items.map((i) => i.value)).then(() => undefined), target, scope),
  );
}

/**
 * The DB writer: one consumer group across all replicas, applying each batch in one statement,
 * forward only, and committing only after the write (a crash replays, which changes nothing).
 * Replaying is also what makes retrying and isolating a batch (writeBatch) safe.
 */
export async function startStatusWriter(
  kafka: Kafka,
  groupId: string,
  names: TopicNames,
  store: PaymentStore,
  producer: Sender,
  logger: Logger,
  settings: ConsumerSettings,
): Promise<Consumer> {
  // Fuller fetches under load (fewer broker requests, bigger batched UPDATEs); the rows are not
  // what a subscriber waits on, so up to 100 ms more when quiet costs nobody.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, minBytes: 64 * 1024, ...groupSession(settings.sessionTimeoutMs) });
  watchConsumer(consumer, 'status-writer', settings.stallMs, logger);
  await consumer.connect();
  await consumer.subscribe({ topic: names.statusPayments, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    // A batch abandoned on the way out (stopping, rebalance) must not be committed by kafkajs.
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      if ((await writeBatch(payload, store, producer, logger)) === 'abandoned') return;
      const last = payload.batch.messages.at(-1);
      if (last) payload.resolveOffset(last.offset);
      await payload.commitOffsetsIfNecessary();
    },
  });
  return consumer;
}

/**
 * The fan-out: each replica reads every status event with a group of its own (starting at the
 * end) and hands it to its local subscribers. Invalid events are the writer's to park.
 */
export async function startStatusBroadcast(kafka: Kafka, names: TopicNames, hub: StatusHub, logger: Logger, settings: ConsumerSettings): Promise<Consumer> {
  const groupId = `gateway-broadcast-${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 20, ...groupSession(settings.sessionTimeoutMs) });
  watchConsumer(consumer, 'status-broadcast', settings.stallMs, logger);
  await consumer.connect();
  await consumer.subscribe({ topic: names.statusPayments, fromBeginning: false });
  const joined = waitForGroupJoin(consumer);
  await consumer.run({
    partitionsConsumedConcurrently: 8,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const decoded = decode('statusPayments', message.value);
        if (decoded.ok) inMessageSpan(TRACER, TOPICS.statusPayments.name, message, batch.partition, () => hub.publish(decoded.value));
      }
    },
  });
  await joined;
  return consumer;
}
