import { and, eq, getTableColumns, or, sql } from 'drizzle-orm';
import type { MoneyOperationResult } from '../../common/kafka/contracts';
import type { UserId } from '../../common/ids';
import { pgArray, runPrepared } from '../../common/db';
import * as schema from '../db/schema';
import type { Db } from './payment-store';

export type DepositRow = typeof schema.deposits.$inferSelect;
export type NewDeposit = Pick<
  DepositRow,
  'operationId' | 'userId' | 'requestedBy' | 'channel' | 'idempotencyKey' | 'amount' | 'currency'
>;

/** The gateway's record of credits asked for (see the `deposits` table). */
export class DepositStore {
  constructor(private readonly db: Db) {}

  /**
   * Records the request once per operation id and returns what is stored: the new row, or the one
   * an earlier call with the same id left (which the caller compares, to tell a retry from a conflict).
   */
  async record(d: NewDeposit): Promise<DepositRow> {
    const [inserted] = await this.db
      .insert(schema.deposits)
      .values(d)
      .onConflictDoNothing({ target: schema.deposits.operationId })
      .returning();
    if (inserted) return inserted;
    const [existing] = await this.db
      .select()
      .from(schema.deposits)
      .where(eq(schema.deposits.operationId, d.operationId));
    if (!existing) throw new Error(`deposit ${d.operationId} neither inserted nor found`);
    return existing;
  }

  /** A credit the caller received or asked for, with the credited user's name; any other is indistinguishable from none. */
  async findVisible(
    operationId: string,
    userId: UserId,
    userName: string,
  ): Promise<(DepositRow & { userName: string }) | undefined> {
    const { deposits, users } = schema;
    const [row] = await this.db
      .select({ ...getTableColumns(deposits), userName: users.userName })
      .from(deposits)
      .innerJoin(users, eq(users.id, deposits.userId))
      .where(
        and(eq(deposits.operationId, operationId), or(eq(deposits.userId, userId), eq(deposits.requestedBy, userName))),
      );
    return row;
  }

  /**
   * Stores money-storage's answers, in one statement. The first answer stays: money-storage
   * answers a re-sent command from what it stored, so a later one could only repeat it.
   */
  async recordOutcomes(results: MoneyOperationResult[]): Promise<void> {
    // One row per credit, or UPDATE ... FROM would pick any of them: the earliest is the first answer.
    const first = new Map<string, MoneyOperationResult>();
    for (const r of results) if (!first.has(r.operationId)) first.set(r.operationId, r);
    if (first.size === 0) return;
    const rows = JSON.stringify(
      [...first.values()].map((r) => ({ id: r.operationId, outcome: r.outcome, reason: r.reason, at: r.at })),
    );
    // The `= ANY` list repeats the batch's keys for the planner (BATCH_KEYS in common/db.ts).
    await runPrepared(
      this.db.$client,
      'gateway-record-deposit-outcomes',
      sql`
      UPDATE gateway.deposits AS d SET outcome = v.outcome, reason = v.reason, decided_at = v.at
        FROM jsonb_to_recordset(${rows}::jsonb) AS v(id text, outcome text, reason text, at timestamptz)
       WHERE d.operation_id = ANY(${pgArray([...first.keys()])}::text[]) AND d.operation_id = v.id
         AND d.outcome IS NULL`,
    );
  }
}
