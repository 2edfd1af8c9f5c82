export const PAYMENT_STATUSES = ['NEW', 'CREATED', 'PROCESSING', 'COMPLETED', 'REJECTED', 'ERROR'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export type TerminalStatus = Extract<PaymentStatus, 'COMPLETED' | 'REJECTED' | 'ERROR'>;

/** Position in the one-way life of a payment; the three terminal statuses share the last rank. */
export function statusRank(status: PaymentStatus): number {
  switch (status) {
    case 'NEW':
      return 0;
    case 'CREATED':
      return 1;
    case 'PROCESSING':
      return 2;
    case 'COMPLETED':
    case 'REJECTED':
    case 'ERROR':
      return 3;
    default: {
      const unknown: never = status;
      throw new Error(`unknown status ${String(unknown)}`);
    }
  }
}

export const isTerminal = (status: PaymentStatus): status is TerminalStatus => statusRank(status) === 3;

/**
 * Statuses only move forward, and a terminal status never changes: a stale or duplicate event
 * (equal or lower rank) is ignored, which also makes redelivered events harmless.
 */
export const canAdvance = (from: PaymentStatus, to: PaymentStatus): boolean =>
  !isTerminal(from) && statusRank(to) > statusRank(from);
