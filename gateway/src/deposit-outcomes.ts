import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { decode, type MoneyOperationResult } from '../../common/kafka/contracts';
import { groupSession } from '../../common/kafka/client';
import { watchConsumer } from '../../common/kafka/consumer-watchdog';
import { batchScope, retryTransient, type ConsumerScope } from '../../common/kafka/transient-retry';
import type { TopicNames } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import type { ConsumerSettings } from './status-consumers';
import type { DepositStore } from './deposit-store';

/** Credits are keyed by their operation id, `deposit:<hash>`; everything else on the topic is a payment's. */
const DEPOSIT_KEY = 'deposit:';

/** A batch's answers to credits; undecodable messages are the paymaster's to park, so they are only skipped here. */
function depositResults(payload: EachBatchPayload): MoneyOperationResult[] {
  const results: MoneyOperationResult[] = [];
  for (const message of payload.batch.messages) {
    if (!message.key?.toString().startsWith(DEPOSIT_KEY)) continue;
    const decoded = decode('moneyOperationResults', message.value);
    if (decoded.ok && decoded.value.kind === 'CREDIT') results.push(decoded.value);
  }
  return results;
}

/**
 * One statement for the batch; if the database refuses it for good, one per answer, so a single
 * bad row leaves only its own credit PENDING (logged), a view and not money.
 */
async function recordAll(results: MoneyOperationResult[], deposits: DepositStore, scope: ConsumerScope): Promise<'done' | 'abandoned'> {
  const together = await retryTransient('deposit outcomes', () => deposits.recordOutcomes(results), scope);
  if (together.kind !== 'deterministic') return together.kind;
  for (const result of results) {
    const alone = await retryTransient('deposit outcome', () => deposits.recordOutcomes([result]), scope);
    if (alone.kind === 'abandoned') return 'abandoned';
    if (alone.kind === 'deterministic') scope.logger.error({ err: alone.error, operationId: result.operationId }, 'deposit outcome not recorded');
  }
  return 'done';
}

/**
 * Records what money-storage answered to every credit the gateway sent, so a credit's outcome is
 * never silent: `credit(operationId)` shows it, and the audit trail has it. One group across
 * replicas, committing after the write; a replay changes nothing (the first answer stays).
 */
export async function startDepositOutcomes(kafka: Kafka, groupId: string, names: TopicNames, deposits: DepositStore, logger: Logger, settings: ConsumerSettings): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, minBytes: 64 * 1024, ...groupSession(settings.sessionTimeoutMs) });
  watchConsumer(consumer, 'deposit-outcomes', settings.stallMs, logger);
  await consumer.connect();
  await consumer.subscribe({ topic: names.moneyOperationResults, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      if ((await recordAll(depositResults(payload), deposits, batchScope(payload, logger))) === 'abandoned') return;
      const last = payload.batch.messages.at(-1);
      if (last) payload.resolveOffset(last.offset);
      await payload.commitOffsetsIfNecessary();
    },
  });
  return consumer;
}
