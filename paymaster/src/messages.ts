import type { MoneyOperation, MoneyOperationResult, PaymentRequested, PaymentStatusChanged } from '../../common/kafka/contracts';
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
export const settleId = (paymentId: string): string => `${paymentId}:settle`;

/** Undoes the debit if money-storage applied it and nobody settled it; money-storage fences it otherwise. */
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

/** Makes the applied debit final; only then may the payment read COMPLETED. */
export function settleCommand(p: PaymentRequested): MoneyOperation {
  return {
    version: 1,
    kind: 'SETTLE',
    operationId: asOperationId(settleId(p.paymentId)),
    settles: asOperationId(p.paymentId),
    paymentId: p.paymentId,
    userId: p.userId,
    requestedAt: new Date().toISOString(),
  };
}

const COMPLETED: Outcome = { status: 'COMPLETED', reason: null };
/** Past the deadline, once the compensation has reversed or fenced the debit. */
const TIMED_OUT: Outcome = { status: 'ERROR', reason: PAYMASTER_REASONS.timeout };

/** What a debit's answer means: a refused debit ends the payment, an applied one must be settled first. */
export type DebitVerdict = { next: 'settle' } | { next: 'finish'; outcome: Outcome };

export function debitVerdict(result: MoneyOperationResult): DebitVerdict {
  switch (result.outcome) {
    case 'APPLIED':
      return { next: 'settle' };
    case 'REJECTED':
      return { next: 'finish', outcome: { status: 'REJECTED', reason: result.reason ?? PAYMASTER_REASONS.rejected } };
    case 'FAILED':
      return { next: 'finish', outcome: { status: 'ERROR', reason: result.reason ?? PAYMASTER_REASONS.failed } };
    default: {
      const unknown: never = result.outcome;
      throw new Error(`unknown outcome ${String(unknown)}`);
    }
  }
}

/** A settle refused means a compensation reversed (or fenced) the debit first: the payment is not paid. */
export function settleOutcome(result: MoneyOperationResult): Outcome {
  return result.outcome === 'APPLIED' ? COMPLETED : { status: 'ERROR', reason: result.reason ?? PAYMASTER_REASONS.failed };
}

/**
 * A compensation refused with SETTLED means another conducting of the same payment settled the
 * debit first and published COMPLETED: this one agrees instead of contradicting it. Anything but
 * a decision on the debit is no outcome (undefined): the caller asks again.
 */
export function compensationOutcome(result: MoneyOperationResult): Outcome | undefined {
  if (result.outcome === 'APPLIED') return TIMED_OUT;
  if (result.outcome !== 'REJECTED') return undefined;
  switch (result.reason) {
    case 'SETTLED':
      return COMPLETED;
    case 'NOTHING_TO_REVERSE':
      return TIMED_OUT;
    default:
      return undefined;
  }
}
