import { and, eq, gte, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { OperationOutcome, OperationReason } from '../../common/kafka/contracts';
import type { OperationId, PaymentId, UserId } from '../../common/ids';
import type { Currency } from '../../common/money';
import * as schema from '../db/schema';
import { accounts, ledgerEntries, processedOperations, type OperationKind } from '../db/schema';

export type MoneyDb = NodePgDatabase<typeof schema>;
type Tx = Parameters<Parameters<MoneyDb['transaction']>[0]>[0];

/** The answer to one command, as stored and as published. */
export interface Answer {
  outcome: OperationOutcome;
  reason: OperationReason | null;
  balanceAfter: string | null;
}

/** The facts of a command the ledger needs, whatever its kind. */
export interface Movement {
  operationId: OperationId;
  kind: OperationKind;
  paymentId: PaymentId | null;
  userId: UserId;
  currency: Currency;
  amount: number;
}

export type StoredOperation = typeof processedOperations.$inferSelect;

const applied = (balanceAfter: string): Answer => ({ outcome: 'APPLIED', reason: null, balanceAfter });
const refused = (outcome: 'REJECTED' | 'FAILED', reason: OperationReason): Answer => ({ outcome, reason, balanceAfter: null });

/**
 * Every write here is one transaction that moves money AND records the operation id, so a command
 * is applied at most once: a concurrent duplicate fails on the primary key (23505) and rolls back.
 */
export class Ledger {
  constructor(private readonly db: MoneyDb) {}

  async findProcessed(operationId: OperationId): Promise<StoredOperation | undefined> {
    const [row] = await this.db.select().from(processedOperations).where(eq(processedOperations.operationId, operationId));
    return row;
  }

  /** Records an answer that moved no money (rejections decided before the ledger, gateway failures). */
  async record(m: Movement, answer: Answer): Promise<Answer> {
    await this.db.insert(processedOperations).values(processedRow(m, answer));
    return answer;
  }

  /**
   * The conditional UPDATE (`balance >= amount`) is the overdraft guard: Postgres takes the row
   * lock and re-checks the condition on the latest committed balance, so concurrent debits queue
   * on the row and none can take the balance below zero (the CHECK constraint backs it up).
   */
  debit(m: Movement, openingBalance: number): Promise<Answer> {
    return this.db.transaction(async (tx) => {
      let balance = await takeFromAccount(tx, m);
      if (balance === undefined && openingBalance > 0 && (await openAccount(tx, m, openingBalance))) {
        balance = await takeFromAccount(tx, m);
      }
      if (balance !== undefined) {
        await insertEntry(tx, m, { amount: -m.amount, balanceAfter: balance, purpose: 'PAYMENT' });
        return insertProcessed(tx, m, applied(balance));
      }
      const [account] = await tx
        .select({ balance: accounts.balance })
        .from(accounts)
        .where(and(eq(accounts.userId, m.userId), eq(accounts.currency, m.currency)));
      return insertProcessed(tx, m, refused('REJECTED', account ? 'INSUFFICIENT_FUNDS' : 'ACCOUNT_MISSING'));
    });
  }

  deposit(m: Movement): Promise<Answer> {
    return this.db.transaction(async (tx) => {
      const balance = await addToAccount(tx, m.userId, m.currency, m.amount);
      await insertEntry(tx, m, { amount: m.amount, balanceAfter: balance, purpose: 'DEPOSIT' });
      return insertProcessed(tx, m, applied(balance));
    });
  }

  /**
   * Cancels the debit `reverses` with a credit of the debit's own amount, once. The debit's row
   * is locked so a concurrent compensation waits and then sees `reversed_by`. When the debit was
   * never processed, a FAILED/REVERSED answer is stored under its id, so a debit arriving late
   * (after the paymaster gave up on it) cannot move money any more.
   */
  compensate(m: Movement, reverses: OperationId): Promise<Answer> {
    return this.db.transaction(async (tx) => {
      const [target] = await tx.select().from(processedOperations).where(eq(processedOperations.operationId, reverses)).for('update');
      if (!target) {
        const fence: Movement = { ...m, operationId: reverses, kind: 'DEBIT' };
        await tx.insert(processedOperations).values({ ...processedRow(fence, refused('FAILED', 'REVERSED')), reversedBy: m.operationId });
        return insertProcessed(tx, m, refused('REJECTED', 'NOTHING_TO_REVERSE'));
      }
      const [debit] = await tx.select().from(ledgerEntries).where(eq(ledgerEntries.operationId, reverses));
      if (target.kind !== 'DEBIT' || target.outcome !== 'APPLIED' || target.reversedBy !== null || !debit) {
        return insertProcessed(tx, m, refused('REJECTED', 'NOTHING_TO_REVERSE'));
      }
      const refund = -Number(debit.amount);
      const balance = await addToAccount(tx, debit.userId, debit.currency, refund);
      const credit: Movement = { ...m, userId: debit.userId, currency: debit.currency, amount: refund };
      await insertEntry(tx, credit, { amount: refund, balanceAfter: balance, purpose: 'COMPENSATION', reverses });
      await tx.update(processedOperations).set({ reversedBy: m.operationId }).where(eq(processedOperations.operationId, reverses));
      return insertProcessed(tx, credit, applied(balance));
    });
  }

  async balances(userId: UserId): Promise<Array<{ currency: Currency; balance: string }>> {
    return this.db
      .select({ currency: accounts.currency, balance: accounts.balance })
      .from(accounts)
      .where(eq(accounts.userId, userId))
      .orderBy(accounts.currency);
  }
}

async function takeFromAccount(tx: Tx, m: Movement): Promise<string | undefined> {
  const [row] = await tx
    .update(accounts)
    .set({ balance: sql`${accounts.balance} - ${m.amount}`, updatedAt: sql`now()` })
    .where(and(eq(accounts.userId, m.userId), eq(accounts.currency, m.currency), gte(accounts.balance, String(m.amount))))
    .returning({ balance: accounts.balance });
  return row?.balance;
}

async function addToAccount(tx: Tx, userId: UserId, currency: Currency, amount: number): Promise<string> {
  const [row] = await tx
    .insert(accounts)
    .values({ userId, currency, balance: String(amount) })
    .onConflictDoUpdate({
      target: [accounts.userId, accounts.currency],
      set: { balance: sql`${accounts.balance} + excluded.balance`, updatedAt: sql`now()` },
    })
    .returning({ balance: accounts.balance });
  if (!row) throw new Error('upsert of an account returned no row');
  return row.balance;
}

/** Seeds a missing account (local runs only); the ledger gets a matching OPENING entry. */
async function openAccount(tx: Tx, m: Movement, openingBalance: number): Promise<boolean> {
  const created = await tx
    .insert(accounts)
    .values({ userId: m.userId, currency: m.currency, balance: String(openingBalance) })
    .onConflictDoNothing()
    .returning({ balance: accounts.balance });
  if (created.length === 0) return false;
  const opening: Movement = { ...m, operationId: `opening:${m.userId}:${m.currency}` as OperationId, kind: 'CREDIT', paymentId: null };
  await insertEntry(tx, opening, { amount: openingBalance, balanceAfter: String(openingBalance), purpose: 'OPENING' });
  return true;
}

async function insertEntry(
  tx: Tx,
  m: Movement,
  e: { amount: number; balanceAfter: string; purpose: schema.EntryPurpose; reverses?: OperationId },
): Promise<void> {
  await tx.insert(ledgerEntries).values({
    operationId: m.operationId,
    kind: m.kind,
    purpose: e.purpose,
    paymentId: m.paymentId,
    userId: m.userId,
    currency: m.currency,
    amount: String(e.amount),
    balanceAfter: e.balanceAfter,
    reverses: e.reverses ?? null,
  });
}

async function insertProcessed(tx: Tx, m: Movement, answer: Answer): Promise<Answer> {
  await tx.insert(processedOperations).values(processedRow(m, answer));
  return answer;
}

function processedRow(m: Movement, answer: Answer): typeof processedOperations.$inferInsert {
  return {
    operationId: m.operationId,
    kind: m.kind,
    paymentId: m.paymentId,
    userId: m.userId,
    outcome: answer.outcome,
    reason: answer.reason,
    balanceAfter: answer.balanceAfter,
  };
}
