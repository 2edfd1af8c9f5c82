export const PAYMENT_STATUSES = ['NEW', 'CREATED', 'PROCESSING', 'COMPLETED', 'REJECTED', 'ERROR'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export type TerminalStatus = Extract<PaymentStatus, 'COMPLETED' | 'REJECTED' | 'ERROR'>;

/**
 * Position in the one-way life of a payment; the three terminal statuses share the last rank.
 * Statuses only move forward: an event is applied only when its rank (its `seq`) is above the
 * stored one, in the status writer's one UPDATE (payment-store.ts `applyStatuses`), so a stale or
 * duplicate event is ignored and a terminal status never changes.
 */
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
export const TERMINAL_STATUSES: readonly TerminalStatus[] = PAYMENT_STATUSES.filter(isTerminal);
