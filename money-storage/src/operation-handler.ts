import type { MoneyOperation, MoneyOperationResult } from '../../common/kafka/contracts';
import { operationResultMessage } from '../../common/kafka/messages';
import type { OperationId } from '../../common/ids';
import { TransientError } from '../../common/failure-class';
import type { Logger } from '../../common/logger';
import { Batcher } from '../../common/batcher';
import { LogDigest } from '../../common/log-digest';
import type { UserDirectory } from './gateway-users';
import type { Answer, Ledger, Movement, StoredOperation } from './ledger';

const UNIQUE_VIOLATION = '23505';
/** A duplicate racing us commits first; after that the stored answer is found, so a few tries suffice. */
const MAX_ATTEMPTS = 3;

/** The commands that move money and whose answers are stored; a SETTLE does neither. */
type MovingOperation = Exclude<MoneyOperation, { kind: 'SETTLE' }>;
export type SettleOperation = Extract<MoneyOperation, { kind: 'SETTLE' }>;

/** Told of every answer decided now (not of one answered again from storage); settles are decided on every ask. */
export type DecisionListener = (kind: MoneyOperation['kind'], answer: Answer) => void;

const isUniqueViolation = (e: unknown): boolean => {
  const err = e as { code?: string; cause?: { code?: string } };
  return err?.code === UNIQUE_VIOLATION || err?.cause?.code === UNIQUE_VIOLATION;
};

/** Decides and applies one `money-operations` command; the answer is what gets published. */
export class OperationHandler {
  /**
   * Debits decided at about the same time (a chunk's commands run concurrently) share one
   * statement and one commit instead of one each; a failed shared statement is redone one debit
   * at a time, so a duplicate racing one of them fails only that one.
   */
  private readonly debits = new Batcher((ms: Movement[]) => this.ledger.debitMany(ms, this.openingBalance), 500, 2);
  /**
   * The chunks of every partition of one fetch look up their stored answers at about the same
   * moment: one query while another is on the wire serves all of them (8 queries a fetch become 2).
   */
  private readonly storedAnswers = new Batcher(
    async (ids: OperationId[]) => {
      const found = await this.ledger.findProcessedMany([...new Set(ids)]);
      return ids.map((id) => found.get(id));
    },
    2000,
    1,
  );

  /** Per debit, and while the gateway is away every debit at once (see LogDigest). */
  private readonly failedDebits: LogDigest;

  constructor(
    private readonly ledger: Ledger,
    private readonly users: UserDirectory,
    private readonly openingBalance: number,
    private readonly logger: Logger,
    private readonly onDecided: DecisionListener = () => undefined,
  ) {
    this.failedDebits = new LogDigest(logger, 'gateway unavailable, failing the debit', 'operationId');
  }

  /** Logs what the warning digest still holds; for a clean stop. */
  flushLogs(): Promise<void> {
    return this.failedDebits.stop();
  }

  /** What is already stored for these commands, fetched in one query (see `handle`'s `known`). */
  async lookupProcessed(ops: MoneyOperation[]): Promise<Map<OperationId, StoredOperation>> {
    const ids = [...new Set(ops.filter((op) => op.kind !== 'SETTLE').map((op) => op.operationId))];
    const stored = await Promise.all(ids.map((id) => this.storedAnswers.submit(id)));
    return new Map(ids.flatMap((id, i) => (stored[i] ? [[id, stored[i]] as const] : [])));
  }

  /**
   * `known` is what `lookupProcessed` found for this command a moment ago; it saves a query per
   * command. It may be stale (a duplicate in the same chunk): the write then fails on the primary
   * key and the next attempt reads the stored answer.
   */
  async handle(op: MoneyOperation, known?: { stored: StoredOperation | undefined }): Promise<MoneyOperationResult> {
    // No stored answer to look for: a settle is answered from its debit's state every time, and it
    // asks nobody, since it only makes final a debit the gateway already allowed.
    if (op.kind === 'SETTLE') return (await this.settleAll([op]))[0]!;
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = attempt === 1 && known ? known.stored : await this.ledger.findProcessed(op.operationId);
        if (stored) return operationResultMessage(op, answerAgain(stored));
        const answer = await this.decide(op);
        this.onDecided(op.kind, answer);
        return operationResultMessage(op, answer);
      } catch (e) {
        // Another consumer (a rebalance, a second replica) processed the same id concurrently.
        if (!isUniqueViolation(e) || attempt >= MAX_ATTEMPTS) throw e;
        this.logger.info(
          { operationId: op.operationId },
          'operation raced with a duplicate, answering from the stored outcome',
        );
      }
    }
  }

  /** Settles answered together, in input order (see `Ledger.settle`). */
  async settleAll(ops: SettleOperation[]): Promise<MoneyOperationResult[]> {
    if (ops.length === 0) return [];
    const answers = await this.ledger.settle([...new Set(ops.map((op) => op.settles))]);
    return ops.map((op) => {
      const answer = answers.get(op.settles)!;
      this.onDecided(op.kind, answer);
      return operationResultMessage(op, answer);
    });
  }

  private async decide(op: MovingOperation): Promise<Answer> {
    const m = movementOf(op);
    // A compensation must work even for a user blocked since the debit, so it asks nobody.
    if (op.kind === 'CREDIT' && op.purpose === 'COMPENSATION') return this.ledger.compensate(m, op.reverses);

    const user = await this.users.lookup(op.userId);
    if (user.kind === 'unavailable') return this.unavailable(op, m, user.error);
    if (user.kind === 'unknown')
      return this.ledger.record(m, { outcome: 'REJECTED', reason: 'USER_UNKNOWN', balanceAfter: null });
    if (op.kind === 'CREDIT') return this.ledger.deposit(m);
    if (user.status !== 'ACTIVE')
      return this.ledger.record(m, { outcome: 'REJECTED', reason: 'USER_BLOCKED', balanceAfter: null });
    return this.debits.submit(m);
  }

  /**
   * A deposit was promised to its client (ACCEPTED) and nobody waits on its answer, so a stored
   * FAILED would lose the money for good: it is retried (the chunk backs off) until the gateway
   * answers. A debit is answered FAILED at once and for good, because the paymaster's deadline
   * needs an answer: the payment ends ERROR with no money moved, and the payer can simply pay again.
   */
  private unavailable(
    op: Exclude<MovingOperation, { purpose: 'COMPENSATION' }>,
    m: Movement,
    error: string,
  ): Promise<Answer> {
    if (op.kind === 'CREDIT') throw new TransientError(`gateway unavailable for a deposit: ${error}`);
    this.failedDebits.warn(op.operationId, {}, { err: error });
    return this.ledger.record(m, { outcome: 'FAILED', reason: 'GATEWAY_UNAVAILABLE', balanceAfter: null });
  }
}

/** A duplicate gets the stored answer, except a debit reversed since: it must never read as APPLIED. */
function answerAgain(stored: StoredOperation): Answer {
  const debit = stored.kind === 'DEBIT';
  if (debit && stored.reversedBy !== null) return { outcome: 'FAILED', reason: 'REVERSED', balanceAfter: null };
  const answer: Answer = { outcome: stored.outcome, reason: stored.reason, balanceAfter: stored.balanceAfter };
  // Final (with its application, or by a SETTLE since): its payment may complete without a SETTLE.
  return debit && stored.outcome === 'APPLIED' && stored.settledAt !== null ? { ...answer, settled: true } : answer;
}

function movementOf(op: MovingOperation): Movement {
  return {
    operationId: op.operationId,
    kind: op.kind,
    paymentId: op.paymentId,
    userId: op.userId,
    currency: op.currency,
    amount: op.amount,
    settle: op.kind === 'DEBIT' && op.settle === true,
  };
}
