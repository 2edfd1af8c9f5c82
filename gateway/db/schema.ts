import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bigintString } from '../../common/db-types';
import type { PaymentId, UserId } from '../../common/ids';
import { USER_STATUSES } from '../../common/user-lookup';
import type { Currency } from '../../common/money';
import type { PaymentStatus } from '../../common/payment-status';
import type { OperationOutcome, OperationReason } from '../../common/kafka/contracts';

/** The gateway's own schema: no other service reads or writes these tables. */
export const gateway = pgSchema('gateway');

export const userIdSequence = gateway.sequence('users_id_seq');

export const users = gateway.table('users', {
  id: bigintString('id')
    .primaryKey()
    .default(sql`nextval('gateway.users_id_seq')`)
    .$type<UserId>(),
  userName: text('user_name').notNull().unique(),
  status: text('status', { enum: USER_STATUSES }).notNull().default('ACTIVE'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const payments = gateway.table(
  'payments',
  {
    id: uuid('id').primaryKey().$type<PaymentId>(),
    userId: bigintString('user_id')
      .notNull()
      .references(() => users.id)
      .$type<UserId>(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull().$type<Currency>(),
    status: text('status').notNull().$type<PaymentStatus>(),
    reason: text('reason'),
    /** Sequence number of the last status event applied; lets a stale event be told apart. */
    statusSeq: integer('status_seq').notNull().default(0),
    idempotencyKey: text('idempotency_key'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('payments_user_idempotency_key')
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
    index('payments_user_created').on(t.userId, t.createdAt.desc(), t.id.desc()),
    // No index may cover status, reason, status_seq or updated_at (not even in a partial index's
    // WHERE): then the two or three status updates of each payment are HOT, written in place on
    // the row's page (fillfactor 80, migration 0002) without a new entry in every index.
  ],
);

/** Messages written in the same transaction as the state they announce; the relay publishes them. */
export const outbox = gateway.table('outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  topic: text('topic').notNull(),
  messageKey: text('message_key').notNull(),
  payload: jsonb('payload').notNull(),
  traceparent: text('traceparent').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Every credit asked of money-storage through the gateway: who asked (the user themself, or an
 * operator), for whom, how much. The audit trail of money entering the system; the ledger in
 * money-storage says what was applied. The operation id is derived from (requester, key),
 * so a retry maps to the same row and the same command, and a reused key with other parameters
 * is seen as a conflict here, before anything is sent.
 */
export const deposits = gateway.table(
  'deposits',
  {
    operationId: text('operation_id').primaryKey(),
    userId: bigintString('user_id')
      .notNull()
      .references(() => users.id)
      .$type<UserId>(),
    requestedBy: text('requested_by').notNull(),
    /** SELF for a user's own development deposit, OPERATOR for a credit by an operator. */
    channel: text('channel', { enum: ['SELF', 'OPERATOR'] }).notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull().$type<Currency>(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** money-storage's answer (APPLIED, REJECTED, FAILED), from `money-operation-results`; null while pending. */
    outcome: text('outcome').$type<OperationOutcome>(),
    reason: text('reason').$type<OperationReason>(),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('deposits_user_created').on(t.userId, t.createdAt.desc())],
);
