import { randomFillSync, randomUUID } from 'node:crypto';

declare const brand: unique symbol;
/** A string that the type system keeps apart from other strings of the same shape. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type PaymentId = Brand<string, 'PaymentId'>;
/** Postgres bigint, carried as a decimal string so it never loses precision in JSON. */
export type UserId = Brand<string, 'UserId'>;
export type OperationId = Brand<string, 'OperationId'>;
export type EventId = Brand<string, 'EventId'>;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^[1-9][0-9]{0,18}$/;

export const isUuid = (s: string): boolean => UUID.test(s);
export const isUserId = (s: string): s is UserId => BIGINT.test(s) && BigInt(s) <= 9223372036854775807n;

export const newPaymentId = (): PaymentId => randomUUID() as PaymentId;
export const newEventId = (): EventId => randomUUID() as EventId;

/**
 * Random hex for trace and span ids, cut from one pooled buffer: `randomBytes` per id is a
 * getrandom syscall each, which profiled as 12% of the paymaster's CPU (every message carries a
 * new span id). randomUUID pools the same way internally.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
export function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}
export const asPaymentId = (s: string): PaymentId => s as PaymentId;
export const asUserId = (s: string): UserId => s as UserId;
export const asOperationId = (s: string): OperationId => s as OperationId;
