import type { MoneyOperationResult } from '../../common/kafka/contracts';
import type { TerminalStatus } from '../../common/payment-status';
import { INVALID_PAYMENT_REASON } from '../../common/kafka/messages';

/** Reasons the paymaster itself gives; money-storage's reasons pass through unchanged. */
export const PAYMASTER_REASONS = {
  invalidPayment: INVALID_PAYMENT_REASON,
  timeout: 'MONEY_STORAGE_TIMEOUT',
  rejected: 'REJECTED',
  failed: 'MONEY_STORAGE_FAILED',
} as const;

export interface Outcome {
  status: TerminalStatus;
  reason: string | null;
}

const COMPLETED: Outcome = { status: 'COMPLETED', reason: null };
/** Past the deadline, once the compensation has reversed or fenced the debit. */
const TIMED_OUT: Outcome = { status: 'ERROR', reason: PAYMASTER_REASONS.timeout };

/**
 * What a debit's answer means: a refused debit ends the payment, and so does one applied and
 * final; an applied debit that is not final yet (an older money-storage) must be settled first.
 */
export type DebitVerdict = { next: 'settle' } | { next: 'finish'; outcome: Outcome };

export function debitVerdict(result: MoneyOperationResult): DebitVerdict {
  switch (result.outcome) {
    case 'APPLIED':
      return result.settled === true ? { next: 'finish', outcome: COMPLETED } : { next: 'settle' };
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
  return result.outcome === 'APPLIED'
    ? COMPLETED
    : { status: 'ERROR', reason: result.reason ?? PAYMASTER_REASONS.failed };
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
