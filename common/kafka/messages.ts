import { asOperationId, type OperationId, type PaymentId, type UserId } from '../ids';
import type { Currency } from '../money';
import { statusRank, type PaymentStatus } from '../payment-status';
import type { MoneyOperation, MoneyOperationResult, PaymentRequested, PaymentStatusChanged } from './contracts';

/**
 * Every message a service sends is built here, next to the schemas, and only here: production,
 * tests and the benchmark build the same shapes, so an id format or a field cannot drift apart.
 */

/** What a payment's messages are built from: a `payments` message, or the row behind one. */
export interface PaymentFacts {
  paymentId: PaymentId;
  userId: UserId;
  amount: number;
  currency: Currency;
}

export function paymentRequestedMessage(p: PaymentFacts, createdAt: Date): PaymentRequested {
  const { paymentId, userId, amount, currency } = p;
  return {
    version: 1,
    type: 'PAYMENT_REQUESTED',
    paymentId,
    userId,
    amount,
    currency,
    createdAt: createdAt.toISOString(),
  };
}

/**
 * The reason a payment ends ERROR with when no service can read its request: the paymaster's for a
 * `payments` message, the gateway's outbox relay's for an outbox row.
 */
export const INVALID_PAYMENT_REASON = 'INVALID_PAYMENT';

/**
 * `seq` is the status rank, not a counter: a redelivered payment publishes the same seq for the
 * same status, so the gateway's forward-only rule drops the duplicate.
 */
export function statusChangedMessage(
  payment: { paymentId: PaymentId; userId: UserId },
  status: PaymentStatus,
  reason: string | null,
  at = new Date(),
): PaymentStatusChanged {
  const { paymentId, userId } = payment;
  return {
    version: 1,
    type: 'PAYMENT_STATUS_CHANGED',
    paymentId,
    userId,
    status,
    reason,
    seq: statusRank(status),
    at: at.toISOString(),
  };
}

/**
 * The Kafka key of a money command and of its result: the payment's id when it has one, so a
 * payment's debit, compensation and settle share a partition and money-storage sees them in the
 * order sent; a deposit's own operation id otherwise.
 */
export const operationKey = (op: { paymentId: string | null; operationId: string }): string =>
  op.paymentId ?? op.operationId;

/** A payment's commands have ids derived from its own, so a re-conducted payment repeats them and money-storage dedupes. */
export const debitId = (paymentId: PaymentId): OperationId => asOperationId(paymentId);
export const reversalId = (paymentId: PaymentId): OperationId => asOperationId(`${paymentId}:reversal`);
export const settleId = (paymentId: PaymentId): OperationId => asOperationId(`${paymentId}:settle`);

const now = (): string => new Date().toISOString();

/**
 * `settle`: the debit is final once applied (the paymaster's; see the schema). Without it, an
 * applied debit waits for a SETTLE, as older paymasters sent it, and a compensation may still reverse it.
 */
export function debitCommand(p: PaymentFacts, { settle } = { settle: true }): MoneyOperation {
  const { paymentId, userId, amount, currency } = p;
  return {
    version: 1,
    kind: 'DEBIT',
    operationId: debitId(paymentId),
    paymentId,
    userId,
    amount,
    currency,
    settle,
    requestedAt: now(),
  };
}

/** Undoes the debit if money-storage applied it and nobody settled it; money-storage fences it otherwise. */
export function compensationCommand(p: PaymentFacts): MoneyOperation {
  const { paymentId, userId, amount, currency } = p;
  const operationId = reversalId(paymentId);
  return {
    version: 1,
    kind: 'CREDIT',
    purpose: 'COMPENSATION',
    operationId,
    reverses: debitId(paymentId),
    paymentId,
    userId,
    amount,
    currency,
    requestedAt: now(),
  };
}

/** Makes the applied debit final; only then may the payment read COMPLETED. */
export function settleCommand(p: Pick<PaymentFacts, 'paymentId' | 'userId'>): MoneyOperation {
  const { paymentId, userId } = p;
  return {
    version: 1,
    kind: 'SETTLE',
    operationId: settleId(paymentId),
    settles: debitId(paymentId),
    paymentId,
    userId,
    requestedAt: now(),
  };
}

/** Money entering an account from outside; `operationId` is the caller's idempotency, already namespaced (`deposit:…`). */
export function depositCommand(
  operationId: OperationId,
  to: { userId: UserId; amount: number; currency: Currency },
): MoneyOperation {
  const { userId, amount, currency } = to;
  return {
    version: 1,
    kind: 'CREDIT',
    purpose: 'DEPOSIT',
    operationId,
    paymentId: null,
    userId,
    amount,
    currency,
    requestedAt: now(),
  };
}

/** What money-storage did with one command, answered with the command's ids. */
export function operationResultMessage(
  op: MoneyOperation,
  answer: Pick<MoneyOperationResult, 'outcome' | 'reason' | 'balanceAfter' | 'settled'>,
): MoneyOperationResult {
  const { operationId, kind, paymentId, userId } = op;
  return { version: 1, operationId, kind, paymentId, userId, ...answer, at: now() };
}
