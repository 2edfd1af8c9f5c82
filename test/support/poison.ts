import { randomUUID } from 'node:crypto';
import type { TopicKey } from '../../common/kafka/topics';

/** A message each topic's schema accepts, to be spoilt one field at a time. */
export function validMessage(topic: TopicKey): Record<string, unknown> {
  const at = new Date().toISOString();
  const paymentId = randomUUID();
  switch (topic) {
    case 'payments':
      return {
        version: 1,
        type: 'PAYMENT_REQUESTED',
        paymentId,
        userId: '1',
        amount: 10,
        currency: 'EUR',
        createdAt: at,
      };
    case 'statusPayments':
      return {
        version: 1,
        type: 'PAYMENT_STATUS_CHANGED',
        paymentId,
        userId: '1',
        status: 'COMPLETED',
        reason: 'REJECTED',
        seq: 3,
        at,
      };
    case 'moneyOperations':
      return {
        version: 1,
        kind: 'DEBIT',
        operationId: paymentId,
        paymentId,
        userId: '1',
        amount: 10,
        currency: 'EUR',
        requestedAt: at,
      };
    case 'moneyOperationResults':
      return {
        version: 1,
        operationId: `${paymentId}:settle`,
        kind: 'SETTLE',
        paymentId,
        userId: '1',
        outcome: 'APPLIED',
        reason: null,
        balanceAfter: '0',
        at,
      };
    default: {
      const unknown: never = topic;
      throw new Error(`no message for ${String(unknown)}`);
    }
  }
}

/** The free-text or id field of each topic a producer bug or an attacker would fill with bytes. */
const TEXT_FIELD: Record<TopicKey, string> = {
  payments: 'paymentId',
  statusPayments: 'reason',
  moneyOperations: 'operationId',
  moneyOperationResults: 'operationId',
};

/** The finality flags only the money topics carry (a debit's `settle`, its answer's `settled`), spoilt. */
const FLAG_POISON: Partial<Record<TopicKey, Array<{ what: string; changes: Record<string, unknown> }>>> = {
  moneyOperations: [
    { what: 'settle as text', changes: { settle: 'true\u0000' } },
    { what: 'settle as a huge number', changes: { settle: 1e308 } },
  ],
  moneyOperationResults: [
    { what: 'settled as text', changes: { settled: 'true' } },
    { what: 'settled false', changes: { settled: false } },
  ],
};

/**
 * Poison for a topic, as raw values: a NUL byte and a lone surrogate (JSON.stringify writes it as
 * the escape "\ud800") in an otherwise valid message, a 10 KB id, wrong types, a userId past int8,
 * a finality flag that is not `true`/absent, not JSON, an empty value and no value at all.
 */
export function poisonValues(
  topic: TopicKey,
): Array<{ what: string; value: string | null; headers?: Record<string, string> }> {
  const spoilt = (changes: Record<string, unknown>): string => JSON.stringify({ ...validMessage(topic), ...changes });
  const field = TEXT_FIELD[topic];
  return [
    { what: 'NUL byte', value: spoilt({ [field]: 'a\u0000b' }) },
    { what: 'lone surrogate', value: spoilt({ [field]: 'a\ud800b' }) },
    { what: '10 KB id', value: spoilt({ [field]: 'a'.repeat(10_000) }) },
    { what: 'wrong types', value: spoilt({ userId: 1, version: '1' }) },
    { what: 'userId past int8', value: spoilt({ userId: '9223372036854775808' }) },
    ...(FLAG_POISON[topic] ?? []).map(({ what, changes }) => ({ what, value: spoilt(changes) })),
    { what: 'not JSON', value: 'not json at all' },
    // kafkajs gathers headers with a copy per header: 12,000 of them held a consumer for a minute.
    { what: '12,000 headers, one named __proto__', value: spoilt({ version: 99 }), headers: manyHeaders(12_000) },
    { what: 'empty value', value: '' },
    { what: 'no value', value: null },
  ];
}

/** `count` headers, the first named `__proto__` (an own property, as a decoded record has it). */
function manyHeaders(count: number): Record<string, string> {
  const headers: Record<string, string> = JSON.parse('{"__proto__":"p"}') as Record<string, string>;
  for (let i = 1; i < count; i++) headers[i.toString(36)] = '';
  return headers;
}
