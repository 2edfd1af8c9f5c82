import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { decode, type PaymentStatusChanged } from '../../common/kafka/contracts';
import { groupSession, sendToDlq } from '../../common/kafka/client';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { waitForGroupJoin } from '../../common/kafka/group-join';
import { watchConsumer } from '../../common/kafka/consumer-watchdog';
import type { TopicNames } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import type { PaymentStore } from './payment-store';
import type { StatusHub } from './status-hub';

export interface ConsumerSettings {
  sessionTimeoutMs: number;
  stallMs: number;
}

/** Decodes a batch; messages that fail their schema go to the DLQ and are skipped. */
async function decodeBatch(payload: EachBatchPayload, producer: Sender, logger: Logger): Promise<PaymentStatusChanged[]> {
  const events: PaymentStatusChanged[] = [];
  for (const message of payload.batch.messages) {
    const decoded = decode('statusPayments', message.value, message.headers);
    if (decoded.ok) {
      events.push(decoded.value);
      continue;
    }
    logger.warn({ offset: message.offset, partition: payload.batch.partition, error: decoded.error }, 'invalid status event sent to the DLQ');
    await sendToDlq(producer, payload.batch.topic, message, decoded.error, { partition: payload.batch.partition, offset: message.offset });
  }
  return events;
}

/**
 * The DB writer: one consumer group across all replicas, applying each batch in one statement,
 * forward only, and committing only after the write (a crash replays, which changes nothing).
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
    eachBatch: async (payload) => {
      const events = await decodeBatch(payload, producer, logger);
      await store.applyStatuses(events);
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
        if (decoded.ok) hub.publish(decoded.value);
      }
    },
  });
  await joined;
  return consumer;
}
