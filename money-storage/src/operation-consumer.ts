import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { decode, type MoneyOperation, type MoneyOperationResult } from '../../common/kafka/contracts';
import { groupSession, publish, sendToDlq, type Outgoing } from '../../common/kafka/client';
import type { TopicNames } from '../../common/kafka/topics';
import { watchConsumer } from '../../common/kafka/consumer-watchdog';
import type { Sender } from '../../common/kafka/self-healing-producer';
import type { Logger } from '../../common/logger';
import type { OperationHandler, SettleOperation } from './operation-handler';

/** Test seam: runs after a chunk's results are published and before its offset is committed. */
export type BeforeCommitHook = (info: { partition: number; lastOffset: string }) => Promise<void>;

export interface OperationConsumerOptions {
  kafka: Kafka;
  producer: Sender;
  names: TopicNames;
  groupId: string;
  handler: OperationHandler;
  logger: Logger;
  partitionsConcurrently: number;
  concurrency: number;
  chunkSize: number;
  /** Silence after which the consumer counts as stuck (see consumer-watchdog). */
  stallMs: number;
  sessionTimeoutMs: number;
  beforeCommit?: BeforeCommitHook;
}

interface Decoded {
  op: MoneyOperation;
  traceparent: string | undefined;
}

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0]?.toString() : v.toString();
};

/**
 * Consumes `money-operations` a chunk at a time: handle (each in its own DB transaction), publish
 * every result, THEN commit the offset. A crash anywhere before the commit means the chunk is read
 * again; the stored answers make that re-publish the same outcomes without moving money twice.
 */
export async function startOperationConsumer(o: OperationConsumerOptions): Promise<Consumer> {
  // Fuller fetches under load: fewer broker requests and bigger chunks (one lookup, one settle
  // statement each); at most 50 ms added per command when quiet, next to the paymaster's delays.
  const consumer = o.kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 50, minBytes: 64 * 1024, ...groupSession(o.sessionTimeoutMs) });
  watchConsumer(consumer, 'money-operations', o.stallMs, o.logger);
  await consumer.connect();
  await consumer.subscribe({ topic: o.names.moneyOperations, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: o.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (let i = 0; i < batch.messages.length; i += o.chunkSize) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(i, i + o.chunkSize);
        const last = chunk[chunk.length - 1]!.offset;
        await processChunk(o, batch.topic, batch.partition, chunk);
        await o.beforeCommit?.({ partition: batch.partition, lastOffset: last });
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        resolveOffset(last);
        await heartbeat();
      }
    },
  });
  return consumer;
}

async function processChunk(o: OperationConsumerOptions, topic: string, partition: number, chunk: KafkaMessage[]): Promise<void> {
  const valid: Decoded[] = [];
  for (const message of chunk) {
    const decoded = decode('moneyOperations', message.value, message.headers);
    if (decoded.ok) {
      valid.push({ op: decoded.value, traceparent: header(message.headers, 'traceparent') });
      continue;
    }
    o.logger.warn({ partition, offset: message.offset, err: decoded.error }, 'invalid money operation, sent to the DLQ');
    await sendToDlq(o.producer, topic, message, decoded.error, { partition, offset: message.offset });
  }
  const results = await handleAll(valid, o);
  await publish(o.producer, o.names, 'moneyOperationResults', results);
}

/**
 * Commands with different keys (payments) run concurrently; commands sharing a key keep their
 * order (a debit before its compensation). A settle alone under its key (the usual case: its debit
 * came in an earlier chunk) joins one statement with the others. Results come back in input order.
 */
async function handleAll(items: Decoded[], o: OperationConsumerOptions): Promise<Outgoing<'moneyOperationResults'>[]> {
  const byKey = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = item.op.paymentId ?? item.op.operationId;
    const indexes = byKey.get(key);
    if (indexes) indexes.push(index);
    else byKey.set(key, [index]);
  });
  const loneSettles: number[] = [];
  const groups: number[][] = [];
  for (const group of byKey.values()) {
    if (group.length === 1 && items[group[0]!]!.op.kind === 'SETTLE') loneSettles.push(group[0]!);
    else groups.push(group);
  }
  const results: Outgoing<'moneyOperationResults'>[] = new Array(items.length);
  const answer = (index: number, value: MoneyOperationResult): void => {
    results[index] = { key: value.paymentId ?? value.operationId, value, traceparent: items[index]!.traceparent };
  };
  const settleAll = async (): Promise<void> => {
    const settled = await o.handler.settleAll(loneSettles.map((index) => items[index]!.op as SettleOperation));
    settled.forEach((value, i) => answer(loneSettles[i]!, value));
  };
  const stored = await o.handler.lookupProcessed(items.map((item) => item.op));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) {
      const group = groups[next++]!;
      for (const [position, index] of group.entries()) {
        // The chunk's lookup predates this key's earlier commands (a compensation before a
        // re-sent debit): only the first command of a key may trust it, the others read afresh.
        const known = position === 0 ? { stored: stored.get(items[index]!.op.operationId) } : undefined;
        answer(index, await o.handler.handle(items[index]!.op, known));
      }
    }
  };
  await Promise.all([settleAll(), ...Array.from({ length: Math.min(o.concurrency, groups.length) }, worker)]);
  return results;
}
