import type { EachBatchPayload } from 'kafkajs';
import { decode, type MoneyOperationResult } from '../../common/kafka/contracts';
import { GroupConsumer, type ConsumerContext } from '../../common/kafka/group-consumer';
import { resolveIfDone, type Settled } from '../../common/kafka/poison-isolation';
import { batchScope, retryTransient, type ConsumerScope } from '../../common/kafka/transient-retry';
import type { TopicNames } from '../../common/kafka/topics';
import type { Stoppable } from '../../common/lifecycle';
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
async function recordAll(
  results: MoneyOperationResult[],
  deposits: DepositStore,
  scope: ConsumerScope,
): Promise<Settled> {
  const together = await retryTransient('deposit outcomes', () => deposits.recordOutcomes(results), scope);
  if (together.kind !== 'deterministic') return together.kind;
  for (const result of results) {
    const alone = await retryTransient('deposit outcome', () => deposits.recordOutcomes([result]), scope);
    if (alone.kind === 'abandoned') return 'abandoned';
    if (alone.kind === 'deterministic')
      scope.logger.error({ err: alone.error, operationId: result.operationId }, 'deposit outcome not recorded');
  }
  return 'done';
}

/**
 * Records what money-storage answered to every credit the gateway sent, so a credit's outcome is
 * never silent: `credit(operationId)` shows it, and the audit trail has it. One group across
 * replicas, committing after the write; a replay changes nothing (the first answer stays).
 */
export async function startDepositOutcomes(
  ctx: ConsumerContext,
  o: { groupId: string; names: TopicNames; deposits: DepositStore },
): Promise<Stoppable> {
  const tuning = { maxWaitTimeInMs: 200, minBytes: 64 * 1024 };
  const outcomes = new GroupConsumer({
    ...ctx,
    name: 'deposit-outcomes',
    groupId: o.groupId,
    topic: o.names.moneyOperationResults,
    fromBeginning: true,
    tuning,
  });
  await outcomes.start(
    {
      eachBatchAutoResolve: false,
      eachBatch: async (payload) =>
        resolveIfDone(payload, await recordAll(depositResults(payload), o.deposits, batchScope(payload, ctx.logger))),
    },
    { pacedCommits: true },
  );
  return outcomes;
}
