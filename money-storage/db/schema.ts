import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bigintString } from '../../common/db-types';
import type { OperationId, PaymentId, UserId } from '../../common/ids';
import type { Currency } from '../../common/money';
import type { OperationOutcome, OperationReason } from '../../common/kafka/contracts';

/** Money-storage's own schema: no other service reads or writes these tables. */
export const money = pgSchema('money');

export const operationKinds = ['DEBIT', 'CREDIT'] as const;
export type OperationKind = (typeof operationKinds)[number];
/** OPENING marks the seed balance of MONEY_STORAGE_OPENING_BALANCE, so the ledger still sums to the balance. */
export const entryPurposes = ['PAYMENT', 'DEPOSIT', 'COMPENSATION', 'OPENING'] as const;
export type EntryPurpose = (typeof entryPurposes)[number];

export const accounts = money.table(
  'accounts',
  {
    userId: bigintString('user_id').notNull().$type<UserId>(),
    currency: text('currency').notNull().$type<Currency>(),
    balance: bigintString('balance').notNull().default('0'),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.currency] }),
    check('accounts_balance_non_negative', sql`${t.balance} >= 0`),
  ],
);

/** Every movement of money, signed: a debit is negative. Append-only. */
export const ledgerEntries = money.table(
  'ledger_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    operationId: text('operation_id').notNull().unique().$type<OperationId>(),
    kind: text('kind', { enum: operationKinds }).notNull(),
    purpose: text('purpose', { enum: entryPurposes }).notNull(),
    paymentId: uuid('payment_id').$type<PaymentId>(),
    userId: bigintString('user_id').notNull().$type<UserId>(),
    currency: text('currency').notNull().$type<Currency>(),
    amount: bigintString('amount').notNull(),
    balanceAfter: bigintString('balance_after').notNull(),
    /** The debit a compensation cancels; unique, so no debit is ever reversed twice. */
    reverses: text('reverses').$type<OperationId>(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('ledger_entries_reverses')
      .on(t.reverses)
      .where(sql`${t.reverses} IS NOT NULL`),
    index('ledger_entries_account').on(t.userId, t.currency),
    /** A user's statement, newest first, paged by id. */
    index('ledger_entries_user_history').on(t.userId, t.id.desc()),
    index('ledger_entries_payment')
      .on(t.paymentId)
      .where(sql`${t.paymentId} IS NOT NULL`),
    check('ledger_entries_amount_non_zero', sql`${t.amount} <> 0`),
  ],
);

/** The answer given to each command, so a redelivered command gets the same answer and moves nothing. */
export const processedOperations = money.table('processed_operations', {
  operationId: text('operation_id').primaryKey().$type<OperationId>(),
  kind: text('kind', { enum: operationKinds }).notNull(),
  paymentId: uuid('payment_id').$type<PaymentId>(),
  userId: bigintString('user_id').notNull().$type<UserId>(),
  outcome: text('outcome').notNull().$type<OperationOutcome>(),
  reason: text('reason').$type<OperationReason>(),
  balanceAfter: bigintString('balance_after'),
  /** Set on an applied debit once a compensation has cancelled it. */
  reversedBy: text('reversed_by').$type<OperationId>(),
  /**
   * Set on an applied debit once it is final, before its payment may complete: with the debit itself
   * when it came with `settle` (the paymaster's), else by a later SETTLE. It and
   * `reversed_by` exclude each other (both are written under the debit row's lock), so a payment
   * conducted twice cannot both complete and have its money given back. A settle has no row of its own.
   */
  settledAt: timestamp('settled_at', { withTimezone: true, precision: 6 }),
  processedAt: timestamp('processed_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
});
