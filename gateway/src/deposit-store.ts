import { eq } from 'drizzle-orm';
import * as schema from '../db/schema';
import type { Db } from './payment-store';

export type DepositRow = typeof schema.deposits.$inferSelect;
export type NewDeposit = Omit<DepositRow, 'createdAt'>;

/** The gateway's record of credits asked for (see the `deposits` table). */
export class DepositStore {
  constructor(private readonly db: Db) {}

  /**
   * Records the request once per operation id and returns what is stored: the new row, or the one
   * an earlier call with the same id left (which the caller compares, to tell a retry from a conflict).
   */
  async record(d: NewDeposit): Promise<DepositRow> {
    const [inserted] = await this.db.insert(schema.deposits).values(d).onConflictDoNothing({ target: schema.deposits.operationId }).returning();
    if (inserted) return inserted;
    const [existing] = await this.db.select().from(schema.deposits).where(eq(schema.deposits.operationId, d.operationId));
    if (!existing) throw new Error(`deposit ${d.operationId} neither inserted nor found`);
    return existing;
  }
}
