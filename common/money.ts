export const CURRENCIES = ['RUB', 'USD', 'EUR', 'GBP', 'CNY', 'JPY', 'CHF', 'KZT'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Amounts are integers of minor units; the cap keeps any sum of a few of them inside a bigint. */
export const MAX_AMOUNT = 1_000_000_000;

export const isCurrency = (s: string): s is Currency => (CURRENCIES as readonly string[]).includes(s);

/** Why an amount is unacceptable, or null when it is fine. */
export function amountProblem(amount: unknown): string | null {
  if (typeof amount !== 'number' || !Number.isInteger(amount)) return 'amount must be an integer number of minor units';
  if (amount <= 0) return 'amount must be positive';
  if (amount > MAX_AMOUNT) return `amount must be at most ${MAX_AMOUNT}`;
  return null;
}
