import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { OperationOutcome, OperationReason } from '../../common/kafka/contracts';
import type { OperationId, PaymentId, UserId } from '../../common/ids';
import type { Currency } from '../../common/money';
import { inTransaction, pgArray, runPrepared, type PooledDb } from '../../common/db';
import * as schema from '../db/schema';
import { accounts, ledgerEntries, processedOperations, type OperationKind } from '../db/schema';

export type MoneyDb = PooledDb<typeof schema>;
type Tx = Parameters<Parameters<MoneyDb['transaction']>[0]>[0];

/** The answer to one command, as stored and as published. */
export interface Answer {
  outcome: OperationOutcome;
  reason: OperationReason | null;
  balanceAfter: string | null;
  /** Debits only, and only when true: applied and final (see `Movement.settle`). */
  settled?: true;
}

/** The facts of a command the ledger needs, whatever its kind. */
export interface Movement {
  operationId: OperationId;
  kind: OperationKind;
  paymentId: PaymentId | null;
  userId: UserId;
  currency: Currency;
  amount: number;
  /** A debit final once applied: `settled_at` is written with it, so no compensation may reverse it. */
  settle: boolean;
}

export type StoredOperation = typeof processedOperations.$inferSelect;
export type LedgerEntry = typeof ledgerEntries.$inferSelect;

const accountOf = (m: Movement): string => `${m.userId}:${m.currency}`;

const applied = (balanceAfter: string): Answer => ({ outcome: 'APPLIED', reason: null, balanceAfter });
const debited = (m: Movement, balanceAfter: string): Answer =>
  m.settle ? { ...applied(balanceAfter), settled: true } : applied(balanceAfter);
const refused = (outcome: 'REJECTED' | 'FAILED', reason: OperationReason): Answer => ({
  outcome,
  reason,
  balanceAfter: null,
});

/**
 * Every write here is one transaction (often one statement) that moves money AND records the
 * operation id, so a command is applied at most once: a concurrent duplicate fails on the
 * primary key (23505) and rolls back. The hot paths are single statements: one round trip, one commit.
 */
export class Ledger {
  constructor(private readonly db: MoneyDb) {}

  async findProcessed(operationId: OperationId): Promise<StoredOperation | undefined> {
    const [row] = await this.db
      .select()
      .from(processedOperations)
      .where(eq(processedOperations.operationId, operationId));
    return row;
  }

  /**
   * One round trip for a whole chunk of commands instead of one per command. Prepared, with the
   * list as one parameter: a list spelled out was planned as a scan of the whole young table
   * (BATCH_KEYS in common/db.ts).
   */
  async findProcessedMany(operationIds: OperationId[]): Promise<Map<OperationId, StoredOperation>> {
    if (operationIds.length === 0) return new Map();
    const rows = await this.db
      .select()
      .from(processedOperations)
      .where(sql`${processedOperations.operationId} = ANY(${pgArray(operationIds)}::text[])`)
      .prepare('money-find-processed')
      .execute();
    return new Map(rows.map((r) => [r.operationId, r]));
  }

  /** Records an answer that moved no money (rejections decided before the ledger, gateway failures). */
  async record(m: Movement, answer: Answer): Promise<Answer> {
    await this.db.insert(processedOperations).values(processedRow(m, answer));
    return answer;
  }

  /**
   * One statement, hence one transaction and one round trip: take the money, write the ledger
   * entry, record the answer. The conditional UPDATE (`balance >= amount`) is the overdraft guard:
   * Postgres takes the row lock and re-checks the condition on the latest committed balance, so
   * concurrent debits queue on the row and none can take it below zero (the CHECK backs it up).
   * A duplicate racing this one fails on processed_operations' primary key and nothing of it stays.
   */
  async debit(m: Movement, openingBalance: number): Promise<Answer> {
    let balance = await this.applyDebit(m);
    if (balance === undefined && openingBalance > 0 && (await this.openAccount(m, openingBalance)))
      balance = await this.applyDebit(m);
    if (balance !== undefined) return debited(m, balance);
    // Nothing moved; the rejection is recorded with why (no account at all, or too little on it).
    const { rows } = await this.db.execute<{ reason: OperationReason }>(sql`
      INSERT INTO money.processed_operations (operation_id, kind, payment_id, user_id, outcome, reason)
      SELECT ${m.operationId}, 'DEBIT', ${m.paymentId}::uuid, ${m.userId}::bigint, 'REJECTED',
        CASE WHEN EXISTS (SELECT 1 FROM money.accounts WHERE user_id = ${m.userId} AND currency = ${m.currency})
          THEN 'INSUFFICIENT_FUNDS' ELSE 'ACCOUNT_MISSING' END
      RETURNING reason`);
    return refused('REJECTED', rows[0]!.reason);
  }

  /**
   * Debits decided together, answered in input order: one statement per round for debits on
   * distinct accounts (a second debit on an account waits for the next round, so each sees the
   * balance the one before left). A debit a round did not apply takes `debit`, which opens a
   * missing account (local runs) or records why it was refused.
   */
  async debitMany(ms: Movement[], openingBalance: number): Promise<Answer[]> {
    if (ms.length === 1) return [await this.debit(ms[0]!, openingBalance)];
    const answers = new Map<Movement, Answer>();
    let pending = ms;
    while (pending.length > 0) {
      const seen = new Set<string>();
      const round = pending.filter((m) => !seen.has(accountOf(m)) && seen.add(accountOf(m)));
      const inRound = new Set(round);
      pending = pending.filter((m) => !inRound.has(m));
      const balances = await this.applyDebits(round);
      for (const m of round) {
        const balance = balances.get(m.operationId);
        answers.set(m, balance === undefined ? await this.debit(m, openingBalance) : debited(m, balance));
      }
    }
    return ms.map((m) => answers.get(m)!);
  }

  /**
   * Many debits, each on a different account, in one statement (one round trip, one commit): the
   * same guard as `applyDebit`, row by row. The accounts are locked in key order first, so two
   * such statements (replicas) cannot deadlock on each other. Returns the balance after each debit
   * that applied; the others (no account, too little on it) are for `debit`, which records why.
   */
  private async applyDebits(ms: Movement[]): Promise<Map<OperationId, string>> {
    const input = JSON.stringify(
      ms.map((m) => ({
        operation_id: m.operationId,
        payment_id: m.paymentId,
        user_id: m.userId,
        currency: m.currency,
        amount: m.amount,
        settle: m.settle,
      })),
    );
    // The `= ANY` lists repeat the batch's keys for the planner (BATCH_KEYS in common/db.ts), both
    // columns of the accounts' key: on a table not yet analysed, the user ids alone were estimated
    // at a sixth of its rows, where a sequential scan costs about as much as the index.
    const rows = await runPrepared<{ operation_id: OperationId; balance: string }>(
      this.db.$client,
      'money-apply-debits',
      sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::jsonb)
          AS x(operation_id text, payment_id uuid, user_id bigint, currency text, amount bigint, settle boolean)
      ), locked AS (
        SELECT a.user_id, a.currency FROM money.accounts a JOIN input i USING (user_id, currency)
         WHERE a.user_id = ANY(${pgArray(ms.map((m) => m.userId))}::bigint[])
           AND a.currency = ANY(${pgArray([...new Set(ms.map((m) => m.currency))])}::text[])
        ORDER BY a.user_id, a.currency FOR UPDATE OF a
      ), account AS (
        UPDATE money.accounts a SET balance = a.balance - i.amount, updated_at = now()
        FROM input i, locked l
        WHERE l.user_id = i.user_id AND l.currency = i.currency
          AND a.user_id = i.user_id AND a.currency = i.currency AND a.balance >= i.amount
        RETURNING i.operation_id, i.payment_id, i.user_id, i.currency, i.amount, i.settle, a.balance
      ), entry AS (
        INSERT INTO money.ledger_entries (operation_id, kind, purpose, payment_id, user_id, currency, amount, balance_after)
        SELECT operation_id, 'DEBIT', 'PAYMENT', payment_id, user_id, currency, -amount, balance FROM account
      )
      INSERT INTO money.processed_operations (operation_id, kind, payment_id, user_id, outcome, balance_after, settled_at)
      SELECT operation_id, 'DEBIT', payment_id, user_id, 'APPLIED', balance, CASE WHEN settle THEN now() END FROM account
      RETURNING operation_id, balance_after::text AS balance`,
    );
    return new Map(rows.map((r) => [r.operation_id, r.balance]));
  }

  private async applyDebit(m: Movement): Promise<string | undefined> {
    const rows = await runPrepared<{ balance: string }>(
      this.db.$client,
      'money-apply-debit',
      sql`
      WITH account AS (
        UPDATE money.accounts SET balance = balance - ${m.amount}, updated_at = now()
        WHERE user_id = ${m.userId} AND currency = ${m.currency} AND balance >= ${m.amount}
        RETURNING balance
      ), entry AS (
        INSERT INTO money.ledger_entries (operation_id, kind, purpose, payment_id, user_id, currency, amount, balance_after)
        SELECT ${m.operationId}, 'DEBIT', 'PAYMENT', ${m.paymentId}::uuid, ${m.userId}::bigint, ${m.currency}, -${m.amount}::bigint, balance FROM account
      )
      INSERT INTO money.processed_operations (operation_id, kind, payment_id, user_id, outcome, balance_after, settled_at)
      SELECT ${m.operationId}, 'DEBIT', ${m.paymentId}::uuid, ${m.userId}::bigint, 'APPLIED', balance,
        CASE WHEN ${m.settle}::boolean THEN now() END FROM account
      RETURNING balance_after::text AS balance`,
    );
    return rows[0]?.balance;
  }

  /** Seeds a missing account (local runs only) with a matching OPENING ledger entry; false if it existed. */
  private async openAccount(m: Movement, openingBalance: number): Promise<boolean> {
    const { rows } = await this.db.execute<{ balance: string }>(sql`
      WITH account AS (
        INSERT INTO money.accounts (user_id, currency, balance) VALUES (${m.userId}, ${m.currency}, ${openingBalance})
        ON CONFLICT DO NOTHING RETURNING balance
      ), entry AS (
        INSERT INTO money.ledger_entries (operation_id, kind, purpose, user_id, currency, amount, balance_after)
        SELECT ${`opening:${m.userId}:${m.currency}`}, 'CREDIT', 'OPENING', ${m.userId}::bigint, ${m.currency}, balance, balance FROM account
      )
      SELECT balance::text AS balance FROM account`);
    return rows.length > 0;
  }

  /** Same single-statement shape as a debit; a deposit opens the account when it is missing. */
  async deposit(m: Movement): Promise<Answer> {
    const { rows } = await this.db.execute<{ balance: string }>(sql`
      WITH account AS (
        INSERT INTO money.accounts (user_id, currency, balance) VALUES (${m.userId}, ${m.currency}, ${m.amount})
        ON CONFLICT (user_id, currency) DO UPDATE SET balance = accounts.balance + excluded.balance, updated_at = now()
        RETURNING balance
      ), entry AS (
        INSERT INTO money.ledger_entries (operation_id, kind, purpose, payment_id, user_id, currency, amount, balance_after)
        SELECT ${m.operationId}, 'CREDIT', 'DEPOSIT', ${m.paymentId}::uuid, ${m.userId}::bigint, ${m.currency}, ${m.amount}::bigint, balance FROM account
      )
      INSERT INTO money.processed_operations (operation_id, kind, payment_id, user_id, outcome, balance_after)
      SELECT ${m.operationId}, 'CREDIT', ${m.paymentId}::uuid, ${m.userId}::bigint, 'APPLIED', balance FROM account
      RETURNING balance_after::text AS balance`);
    return applied(rows[0]!.balance);
  }

  /**
   * Makes each applied debit in `settles` final, so its payment may complete. Settle and compensation
   * race for the same debit when a payment is conducted twice; the debit row's lock decides: this
   * UPDATE waits for a compensation holding it and then re-checks `reversed_by` on the committed
   * row, and a compensation arriving later finds `settled_at` (see `compensate`). The first one
   * processed wins, and the loser's answer says so.
   *
   * A settle is not recorded in processed_operations: its answer is derived from the debit's state,
   * and a debit once settled or reversed stays so, so a settle asked again gets the same answer
   * and moves nothing; it is idempotent by itself. coalesce keeps the first settle's time.
   */
  async settle(settles: OperationId[]): Promise<Map<OperationId, Answer>> {
    // One statement for a whole chunk's settles: under load they are half of all commands, and
    // one commit instead of hundreds is most of what they would cost.
    const rows = await this.db
      .update(processedOperations)
      .set({ settledAt: sql`coalesce(${processedOperations.settledAt}, now())` })
      .where(
        and(
          inArray(processedOperations.operationId, settles),
          eq(processedOperations.kind, 'DEBIT'),
          eq(processedOperations.outcome, 'APPLIED'),
          isNull(processedOperations.reversedBy),
        ),
      )
      .returning({ operationId: processedOperations.operationId, balance: processedOperations.balanceAfter });
    const answers = new Map(rows.map((r) => [r.operationId, applied(r.balance!)]));
    const lost = settles.filter((id) => !answers.has(id));
    // A new statement, so a new snapshot: it sees the compensation the UPDATE may have waited for.
    // The fence row stored by a compensation that came before its debit has reversed_by set too.
    const targets = await this.findProcessedMany(lost);
    for (const id of lost)
      answers.set(id, refused('REJECTED', targets.get(id)?.reversedBy != null ? 'REVERSED' : 'NOTHING_TO_SETTLE'));
    return answers;
  }

  /**
   * Cancels the debit `reverses` with a credit of the debit's own amount, once. The debit's row
   * is locked so a concurrent compensation (or settle) waits and then sees `reversed_by`. When the
   * debit was never processed, a FAILED/REVERSED answer is stored under its id, so a debit arriving
   * late (after the paymaster gave up on it) cannot move money any more.
   */
  compensate(m: Movement, reverses: OperationId): Promise<Answer> {
    return inTransaction(this.db, schema, async (tx) => {
      const [target] = await tx
        .select()
        .from(processedOperations)
        .where(eq(processedOperations.operationId, reverses))
        .for('update');
      if (!target) {
        const fence: Movement = { ...m, operationId: reverses, kind: 'DEBIT' };
        await tx
          .insert(processedOperations)
          .values({ ...processedRow(fence, refused('FAILED', 'REVERSED')), reversedBy: m.operationId });
        return insertProcessed(tx, m, refused('REJECTED', 'NOTHING_TO_REVERSE'));
      }
      // A settle won the race: the payment completed on this debit, so the money stays taken.
      if (target.settledAt !== null) return insertProcessed(tx, m, refused('REJECTED', 'SETTLED'));
      const [debit] = await tx.select().from(ledgerEntries).where(eq(ledgerEntries.operationId, reverses));
      if (target.kind !== 'DEBIT' || target.outcome !== 'APPLIED' || target.reversedBy !== null || !debit) {
        return insertProcessed(tx, m, refused('REJECTED', 'NOTHING_TO_REVERSE'));
      }
      const refund = -Number(debit.amount);
      const balance = await addToAccount(tx, debit.userId, debit.currency, refund);
      const credit: Movement = { ...m, userId: debit.userId, currency: debit.currency, amount: refund };
      await insertEntry(tx, credit, { amount: refund, balanceAfter: balance, purpose: 'COMPENSATION', reverses });
      await tx
        .update(processedOperations)
        .set({ reversedBy: m.operationId })
        .where(eq(processedOperations.operationId, reverses));
      return insertProcessed(tx, credit, applied(balance));
    });
  }

  /** A user's entries, newest first, keyset-paged by id so a page never shifts while money moves. */
  async history(
    userId: UserId,
    first: number,
    beforeId?: number,
  ): Promise<{ entries: LedgerEntry[]; hasNextPage: boolean }> {
    const rows = await this.db
      .select()
      .from(ledgerEntries)
      .where(
        beforeId === undefined
          ? eq(ledgerEntries.userId, userId)
          : and(eq(ledgerEntries.userId, userId), lt(ledgerEntries.id, beforeId)),
      )
      .orderBy(desc(ledgerEntries.id))
      .limit(first + 1);
    return { entries: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async balances(userId: UserId): Promise<Array<{ currency: Currency; balance: string }>> {
    return this.db
      .select({ currency: accounts.currency, balance: accounts.balance })
      .from(accounts)
      .where(eq(accounts.userId, userId))
      .orderBy(accounts.currency);
  }
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
