import { randomBytes } from 'node:crypto';
import type { MoneyOperation, MoneyOperationResult, PaymentRequested, PaymentStatusChanged } from '../../common/kafka/contracts';
import { newTraceparent } from '../../common/kafka/client';
import { asOperationId, type PaymentId, type UserId } from '../../common/ids';
import { statusRank, type PaymentStatus, type TerminalStatus } from '../../common/payment-status';

/** Reasons the paymaster itself gives; money-storage's reasons pass through unchanged. */
export const PAYMASTER_REASONS = {
  invalidPayment: 'INVALID_PAYMENT',
  timeout: 'MONEY_STORAGE_TIMEOUT',
  rejected: 'REJECTED',
  failed: 'MONEY_STORAGE_FAILED',
} as const;

export interface Outcome {
  status: TerminalStatus;
  reason: string | null;
}

/**
 * `seq` is the status rank, not a counter: a redelivered payment publishes the same seq for the
 * same status, so the gateway's forward-only rule drops the duplicate.
 */
export function statusEvent(
  payment: { paymentId: PaymentId; userId: UserId },
  status: PaymentStatus,
  reason: string | null,
): PaymentStatusChanged {
  return {
    version: 1,
    type: 'PAYMENT_STATUS_CHANGED',
    paymentId: payment.paymentId,
    userId: payment.userId,
    status,
    reason,
    seq: statusRank(status),
    at: new Date().toISOString(),
  };
}

export function debitCommand(p: PaymentRequested): MoneyOperation {
  return {
    version: 1,
    kind: 'DEBIT',
    operationId: asOperationId(p.paymentId),
    paymentId: p.paymentId,
    userId: p.userId,
    amount: p.amount,
    currency: p.currency,
    requestedAt: new Date().toISOString(),
  };
}

export const reversalId = (paymentId: string): string => `${paymentId}:reversal`;

/** Undoes the debit if money-storage applied it; money-storage answers NOTHING_TO_REVERSE otherwise. */
export function compensationCommand(p: PaymentRequested): MoneyOperation {
  return {
    version: 1,
    kind: 'CREDIT',
    purpose: 'COMPENSATION',
    operationId: asOperationId(reversalId(p.paymentId)),
    reverses: asOperationId(p.paymentId),
    paymentId: p.paymentId,
    userId: p.userId,
    amount: p.amount,
    currency: p.currency,
    requestedAt: new Date().toISOString(),
  };
}

export function outcomeOf(result: MoneyOperationResult): Outcome {
  switch (result.outcome) {
    case 'APPLIED':
      return { status: 'COMPLETED', reason: null };
    case 'REJECTED':
      return { status: 'REJECTED', reason: result.reason ?? PAYMASTER_REASONS.rejected };
    case 'FAILED':
      return { status: 'ERROR', reason: result.reason ?? PAYMASTER_REASONS.failed };
    default: {
      const unknown: never = result.outcome;
      throw new Error(`unknown outcome ${String(unknown)}`);
    }
  }
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;

/** Same trace, a new span for this hop; a missing or malformed parent starts a new trace. */
export function childTraceparent(parent: string | undefined): string {
  const m = parent ? TRACEPARENT.exec(parent) : null;
  if (!m) return newTraceparent();
  return `${m[1]}-${m[2]}-${randomBytes(8).toString('hex')}-${m[3]}`;
}
