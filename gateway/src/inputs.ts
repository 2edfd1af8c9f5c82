import { amountProblem, isCurrency, type Currency } from '../../common/money';
import { badInput } from './errors';

/** Narrow on purpose: a key ends up in ids, logs and headers, so nothing there may need escaping. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

export function checkMoney(amount: unknown, currency: unknown): { amount: number; currency: Currency } {
  const problem = amountProblem(amount);
  if (problem) throw badInput(problem);
  if (typeof currency !== 'string' || !isCurrency(currency))
    throw badInput('currency must be one of RUB USD EUR GBP CNY JPY CHF KZT');
  return { amount: amount as number, currency };
}

export function checkIdempotencyKey(key: unknown): string | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))
    throw badInput('idempotencyKey must be 1-64 characters of A-Z a-z 0-9 . _ : -');
  return key;
}

/** A page size within bounds; `fallback` when absent. */
export function checkFirst(first: unknown, fallback: number, max: number): number {
  const value = first ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw badInput(`first must be an integer from 0 to ${max}`);
  return value;
}

/** Cursors are opaque to clients; anything but one we issued is bad input, never a query. */
export const encodeCursor = (parts: string[]): string => Buffer.from(parts.join('|')).toString('base64url');

export function decodeCursor(cursor: unknown, shape: RegExp[]): string[] {
  const parts =
    typeof cursor === 'string' && cursor.length <= 200
      ? Buffer.from(cursor, 'base64url').toString('utf8').split('|')
      : [];
  if (parts.length !== shape.length || !parts.every((p, i) => shape[i]!.test(p)))
    throw badInput('after is not a cursor from this API');
  return parts;
}
