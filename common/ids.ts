import { randomUUID } from 'node:crypto';

declare const brand: unique symbol;
/** A string that the type system keeps apart from other strings of the same shape. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type PaymentId = Brand<string, 'PaymentId'>;
/** Postgres bigint, carried as a decimal string so it never loses precision in JSON. */
export type UserId = Brand<string, 'UserId'>;
export type OperationId = Brand<string, 'OperationId'>;
export type EventId = Brand<string, 'EventId'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^[1-9][0-9]{0,18}$/;

export const isUuid = (s: string): boolean => UUID.test(s);
export const isUserId = (s: string): s is UserId => BIGINT.test(s) && BigInt(s) <= 9223372036854775807n;

export const newPaymentId = (): PaymentId => randomUUID() as PaymentId;
export const newEventId = (): EventId => randomUUID() as EventId;
export const asPaymentId = (s: string): PaymentId => s as PaymentId;
export const asUserId = (s: string): UserId => s as UserId;
export const asOperationId = (s: string): OperationId => s as OperationId;
