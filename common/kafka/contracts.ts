import { z } from 'zod';
import { CURRENCIES, MAX_AMOUNT } from '../money';
import { PAYMENT_STATUSES } from '../payment-status';
import { isUserId, type EventId, type OperationId, type PaymentId, type UserId } from '../ids';
import type { TopicKey } from './topics';

/**
 * One schema per topic, checked by the producer before it sends and by the consumer when it
 * reads. `version` lets a consumer refuse a message shape it does not know instead of guessing.
 */
const paymentId = z.uuid().transform((s) => s as PaymentId);
/** Checked against int8's range too: a larger id passes a digit pattern and then fails every insert, for ever. */
const userId = z
  .string()
  .refine(isUserId, 'userId must be a positive int8 as a decimal string')
  .transform((s) => s as UserId);
/**
 * Ids end up as Postgres text, Kafka keys, log fields and header values. A NUL byte passes JSON and
 * fails every write (22021); a lone surrogate becomes U+FFFD on its way to Postgres, so two
 * different ids could be stored as one. So ids are plain ASCII. Every
 * producer fits: `<paymentId>`, `<paymentId>:settle|reversal`, `deposit:<uuid>`, `deposit:<64 hex>`, `opening:<userId>:<ccy>`.
 */
const operationId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'operationId must be 1-100 characters of A-Z a-z 0-9 . _ : -')
  .transform((s) => s as OperationId);
/** Control characters (Unicode Cc: U+0000-001F, U+007F-009F) and unpaired surrogates (Cs, only matched unpaired under /u). */
const UNSAFE_TEXT = /[\p{Cc}\p{Cs}]/u;
/** Free text (reasons): printable and well-formed, so Postgres and every reader can store it. */
const safeText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !UNSAFE_TEXT.test(s), 'must contain no control characters or lone surrogates');
const amount = z.number().int().positive().max(MAX_AMOUNT);
const currency = z.enum(CURRENCIES);
const at = z.iso.datetime();

/** `payments`: a payment the gateway accepted, for the paymaster to conduct. */
export const paymentRequested = z.object({
  version: z.literal(1),
  type: z.literal('PAYMENT_REQUESTED'),
  paymentId,
  userId,
  amount,
  currency,
  createdAt: at,
});

/** `status-payments`: every status change, with a per-payment sequence to order and dedupe. */
export const paymentStatusChanged = z.object({
  version: z.literal(1),
  type: z.literal('PAYMENT_STATUS_CHANGED'),
  paymentId,
  userId,
  status: z.enum(PAYMENT_STATUSES),
  reason: safeText(200).nullable(),
  /** Stored as a Postgres integer. */
  seq: z.number().int().nonnegative().max(2_147_483_647),
  at,
});

const operationBase = {
  version: z.literal(1),
  operationId,
  userId,
  amount,
  currency,
  requestedAt: at,
};

/**
 * `money-operations`: commands for money-storage. DEBIT pays; CREDIT deposits or compensates;
 * SETTLE makes an applied debit final before its payment may complete (a DEBIT with `settle`
 * does so itself). SETTLE and COMPENSATION
 * race on the same debit and money-storage lets exactly one win, so the status the paymaster
 * publishes always agrees with the ledger, even when a payment is conducted twice.
 */
const credit = z.discriminatedUnion('purpose', [
  z.object({ ...operationBase, kind: z.literal('CREDIT'), purpose: z.literal('DEPOSIT'), paymentId: z.null() }),
  z.object({
    ...operationBase,
    kind: z.literal('CREDIT'),
    purpose: z.literal('COMPENSATION'),
    paymentId,
    /** The debit this credit reverses. */
    reverses: operationId,
  }),
]);
const settle = z.object({
  version: z.literal(1),
  kind: z.literal('SETTLE'),
  operationId,
  paymentId,
  userId,
  /** The applied debit that becomes final: no compensation may reverse it afterwards. */
  settles: operationId,
  requestedAt: at,
});
// Nested: zod refuses one discriminated union with two members sharing `kind: CREDIT`.
export const moneyOperation = z.discriminatedUnion('kind', [
  z.object({
    ...operationBase,
    kind: z.literal('DEBIT'),
    paymentId,
    /**
     * True: an applied debit is final in the same transaction, as if settled at once, and no SETTLE
     * follows (two messages fewer per payment). Absent (an older paymaster): final only once a SETTLE says so.
     */
    settle: z.boolean().optional(),
  }),
  credit,
  settle,
]);
const OPERATION_KINDS = ['DEBIT', 'CREDIT', 'SETTLE'] as const;

export const OPERATION_OUTCOMES = ['APPLIED', 'REJECTED', 'FAILED'] as const;
export const OPERATION_REASONS = [
  'INSUFFICIENT_FUNDS',
  'USER_BLOCKED',
  'USER_UNKNOWN',
  'ACCOUNT_MISSING',
  'GATEWAY_UNAVAILABLE',
  'INTERNAL_ERROR',
  /** A compensation found no applied debit to reverse: nothing moved, nothing to do. */
  'NOTHING_TO_REVERSE',
  /** A debit asked for again after it was reversed, or a settle that lost to a compensation: the payment must not complete. */
  'REVERSED',
  /** A compensation that lost to a settle: the debit stands and its payment completed. */
  'SETTLED',
  /** A settle for a debit that was never applied: nothing to make final. */
  'NOTHING_TO_SETTLE',
] as const;

/** `money-operation-results`: what money-storage did with one command. */
export const moneyOperationResult = z.object({
  version: z.literal(1),
  operationId,
  kind: z.enum(OPERATION_KINDS),
  paymentId: paymentId.nullable(),
  userId,
  outcome: z.enum(OPERATION_OUTCOMES),
  reason: z.enum(OPERATION_REASONS).nullable(),
  /** Decimal string: balances are bigint and may outgrow a JS number. */
  balanceAfter: z
    .string()
    .regex(/^[0-9]+$/)
    .nullable(),
  /**
   * On a DEBIT's answer: true when the debit is applied and final, so its payment may complete
   * without a SETTLE. Absent elsewhere, and from an older money-storage, which never settles on apply.
   */
  settled: z.literal(true).optional(),
  at,
});

export const SCHEMAS = {
  payments: paymentRequested,
  statusPayments: paymentStatusChanged,
  moneyOperations: moneyOperation,
  moneyOperationResults: moneyOperationResult,
} as const satisfies Record<TopicKey, z.ZodType>;

export type PaymentRequested = z.output<typeof paymentRequested>;
export type PaymentStatusChanged = z.output<typeof paymentStatusChanged>;
export type MoneyOperation = z.output<typeof moneyOperation>;
export type MoneyOperationResult = z.output<typeof moneyOperationResult>;
export type OperationOutcome = (typeof OPERATION_OUTCOMES)[number];
export type OperationReason = (typeof OPERATION_REASONS)[number];
export type MessageOf<T extends TopicKey> = z.output<(typeof SCHEMAS)[T]>;

export type Decoded<T extends TopicKey> =
  { ok: true; value: MessageOf<T>; eventId: EventId | null } | { ok: false; error: string };

/** Serialises after validating, so a bug in a producer fails loudly instead of poisoning a topic. */
export function encode<T extends TopicKey>(topic: T, message: MessageOf<T>): Buffer {
  const checked = SCHEMAS[topic].safeParse(message);
  if (!checked.success) throw new Error(`refusing to publish an invalid ${topic} message: ${checked.error.message}`);
  return Buffer.from(JSON.stringify(message));
}

export function decode<T extends TopicKey>(
  topic: T,
  value: Buffer | null,
  headers?: Record<string, unknown>,
): Decoded<T> {
  if (value === null) return { ok: false, error: 'empty message value' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const parsed = SCHEMAS[topic].safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, error: `schema violation: ${detail}` };
  }
  const raw = headers?.['event-id'];
  const eventId = typeof raw === 'string' || Buffer.isBuffer(raw) ? (raw.toString() as EventId) : null;
  return { ok: true, value: parsed.data as MessageOf<T>, eventId };
}
