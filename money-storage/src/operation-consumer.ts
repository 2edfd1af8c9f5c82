import type { KafkaMessage } from 'kafkajs';
import type { MoneyOperation, MoneyOperationResult } from '../../common/kafka/contracts';
import { publish, type Outgoing } from '../../common/kafka/client';
import { TOPICS, type TopicNames } from '../../common/kafka/topics';
import { GroupConsumer, type ConsumerContext } from '../../common/kafka/group-consumer';
import {
  decodeOrPark,
  processIsolatingPoison,
  type DlqTarget,
  type Item,
  type Settled,
} from '../../common/kafka/poison-isolation';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { batchScope, type ConsumerScope } from '../../common/kafka/transient-retry';
import type { Stoppable } from '../../common/lifecycle';
import type { Span } from '@opentelemetry/api';
import type { Logger } from '../../common/logger';
import { inMessageSpans, traceparentOf, tracerOf, withSpan } from '../../common/tracing';
import type { OperationHandler, SettleOperation } from './operation-handler';
import { listJoiner, type Batcher } from '../../common/batcher';
import { operationKey } from '../../common/kafka/messages';

/** Test seam: runs after a chunk's results are published and before its offset is marked done (and so committed). */
export type BeforeCommitHook = (info: { partition: number; lastOffset: string }) => Promise<void>;

export interface OperationConsumerOptions {
  producer: Sender;
  names: TopicNames;
  groupId: string;
  handler: OperationHandler;
  logger: Logger;
  partitionsConcurrently: number;
  concurrency: number;
  chunkSize: number;
  beforeCommit?: BeforeCommitHook;
}

type Command = Item & { value: MoneyOperation; span: Span };
type Results = Outgoing<'moneyOperationResults'>[];
/** Chunks' results sent together (listJoiner). */
type ResultSender = Batcher<Results, void>;

const TRACER = tracerOf('money-storage');

/**
 * Consumes `money-operations` a chunk at a time: handle (each in its own DB transaction), publish
 * every result, THEN mark the offset done; the paced commit (GroupConsumer) sends it within
 * KAFKA_COMMIT_INTERVAL_MS, and on stop. A crash anywhere before the commit means the chunk is read
 * again; the stored answers make that re-publish the same outcomes without moving money twice.
 * The same idempotency makes a chunk safe to retry in place after a transient failure, and to
 * redo one command at a time when it fails deterministically (see processIsolatingPoison): the
 * culprit goes to the DLQ, the others are answered, and the partition moves on.
 */
export async function startOperationConsumer(ctx: ConsumerContext, o: OperationConsumerOptions): Promise<Stoppable> {
  // Fuller fetches under load: fewer broker requests and bigger chunks (one lookup, one settle
  // statement each); at most 50 ms added per command when quiet, next to the paymaster's delays.
  const tuning = { maxWaitTimeInMs: 50, minBytes: 64 * 1024 };
  // The chunks of a fetch's partitions answer at about the same moment: one produce request while
  // another is on the wire carries them all, and the broker appends to each partition once.
  const results: ResultSender = listJoiner((all: Results) =>
    publish(o.producer, o.names, 'moneyOperationResults', all),
  );
  const operations = new GroupConsumer({
    ...ctx,
    name: 'money-operations',
    groupId: o.groupId,
    topic: o.names.moneyOperations,
    fromBeginning: true,
    tuning,
  });
  await operations.start(
    {
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConcurrently,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const scope = batchScope(payload, o.logger);
        const target: DlqTarget = { producer: o.producer, topic: batch.topic, partition: batch.partition };
        for (let i = 0; i < batch.messages.length; i += o.chunkSize) {
          if (!scope.isActive()) return;
          const chunk = batch.messages.slice(i, i + o.chunkSize);
          const last = chunk[chunk.length - 1]!.offset;
          if ((await processChunk(o, results, chunk, target, scope)) === 'abandoned') return;
          await o.beforeCommit?.({ partition: batch.partition, lastOffset: last });
          payload.resolveOffset(last);
          await payload.heartbeat();
        }
      },
    },
    { pacedCommits: true },
  );
  return operations;
}

async function processChunk(
  o: OperationConsumerOptions,
  results: ResultSender,
  chunk: KafkaMessage[],
  target: DlqTarget,
  scope: ConsumerScope,
): Promise<Settled> {
  const decoded = await decodeOrPark('moneyOperations', chunk, target, scope);
  if (decoded.settled === 'abandoned') return 'abandoned';
  // A result that fails its schema throws in publish, before anything is sent: deterministic, so isolated like a failed command.
  const answerAll = async (commands: Command[]): Promise<void> => results.submit(await handleAll(commands, o));
  const messages = decoded.items.map((item) => item.message);
  return inMessageSpans(TRACER, TOPICS.moneyOperations.name, target.partition, messages, (spans) =>
    processIsolatingPoison(
      decoded.items.map((item, i) => ({ ...item, span: spans[i]! })),
      answerAll,
      target,
      scope,
    ),
  );
}

/**
 * Commands with different keys (payments) run concurrently; commands sharing a key keep their
 * order (a debit before its compensation). A settle alone under its key (the usual case: its debit
 * came in an earlier chunk) joins one statement with the others. Results come back in input order.
 */
async function handleAll(items: Command[], o: OperationConsumerOptions): Promise<Results> {
  const byKey = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = operationKey(item.value);
    const indexes = byKey.get(key);
    if (indexes) indexes.push(index);
    else byKey.set(key, [index]);
  });
  const loneSettles: number[] = [];
  const groups: number[][] = [];
  for (const group of byKey.values()) {
    if (group.length === 1 && items[group[0]!]!.value.kind === 'SETTLE') loneSettles.push(group[0]!);
    else groups.push(group);
  }
  const results = new Array<Outgoing<'moneyOperationResults'>>(items.length);
  const answer = (index: number, value: MoneyOperationResult): void => {
    results[index] = {
      key: operationKey(value),
      value,
      traceparent: traceparentOf(items[index]!.span),
    };
  };
  const settleAll = async (): Promise<void> => {
    const settled = await o.handler.settleAll(loneSettles.map((index) => items[index]!.value as SettleOperation));
    settled.forEach((value, i) => answer(loneSettles[i]!, value));
  };
  const stored = await o.handler.lookupProcessed(items.map((item) => item.value));
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < groups.length && !failed) {
      const group = groups[next++]!;
      for (const [position, index] of group.entries()) {
        // The chunk's lookup predates this key's earlier commands (a compensation before a
        // re-sent debit): only the first command of a key may trust it, the others read afresh.
        const known = position === 0 ? { stored: stored.get(items[index]!.value.operationId) } : undefined;
        answer(index, await withSpan(items[index]!.span, () => o.handler.handle(items[index]!.value, known)));
      }
    }
  };
  const runs = [settleAll(), ...Array.from({ length: Math.min(o.concurrency, groups.length) }, worker)].map((run) =>
    run.catch((e: unknown) => {
      failed = true;
      throw e;
    }),
  );
  // Every run has ended before the chunk is retried or isolated, so no command of this attempt
  // is still in flight while the next attempt handles the same key.
  const failure = (await Promise.allSettled(runs)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}
