import type { Producer } from 'kafkajs';
import { createKafka, createProducer, publish } from '../../common/kafka/client';
import {
  decode,
  type MoneyOperation,
  type MoneyOperationResult,
  type PaymentRequested,
} from '../../common/kafka/contracts';
import type { TopicNames } from '../../common/kafka/topics';
import { createLogger } from '../../common/logger';
import { asPaymentId, asUserId, newPaymentId } from '../../common/ids';
import { operationKey, operationResultMessage, paymentRequestedMessage } from '../../common/kafka/messages';
import { loadPaymasterConfig } from '../../paymaster/src/config';
import { startPaymaster, type Paymaster } from '../../paymaster/src/paymaster';
import { kafkaBrokers, testKafka, uniqueName } from '../support/infra';
import { TERMINAL_STATUSES } from '../../common/payment-status';

export const quietLogger = () => createLogger('paymaster-test', process.env.TEST_LOG_LEVEL ?? 'silent');

export const payment = (userId: string, amount = 100): PaymentRequested =>
  paymentRequestedMessage(
    { paymentId: asPaymentId(newPaymentId()), userId: asUserId(userId), amount, currency: 'EUR' },
    new Date(),
  );

export async function testProducer(): Promise<Producer> {
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'paymaster-test', logger: quietLogger() });
  const producer = createProducer(kafka);
  await producer.connect();
  return producer;
}

export async function sendPayments(
  producer: Producer,
  names: TopicNames,
  payments: PaymentRequested[],
  traceparent?: string,
): Promise<void> {
  for (let i = 0; i < payments.length; i += 500) {
    await publish(
      producer,
      names,
      'payments',
      payments.slice(i, i + 500).map((p) => ({ key: p.paymentId, value: p, traceparent })),
    );
  }
}

/** Base environment for a paymaster under test: its own topics and group, tiny delays. */
export const paymasterEnv = (prefix: string, extra: Record<string, string> = {}): Record<string, string> => ({
  KAFKA_BROKERS: kafkaBrokers().join(','),
  KAFKA_TOPIC_PREFIX: prefix,
  PAYMASTER_GROUP_ID: uniqueName('paymaster'),
  PAYMASTER_DELAY_MIN_MS: '1',
  PAYMASTER_DELAY_MAX_MS: '50',
  KAFKA_COMMIT_INTERVAL_MS: '200',
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  PORT: '0',
  LOG_LEVEL: 'silent',
  ...extra,
});

export const startInProcess = (env: Record<string, string>): Promise<Paymaster> =>
  startPaymaster(loadPaymasterConfig(env), quietLogger());

export type Decide = (op: MoneyOperation) => Pick<MoneyOperationResult, 'outcome' | 'reason' | 'settled'> | null;

/**
 * Plays money-storage on the topics: answers each command with whatever `decide` says (null: stay
 * silent). Deciding from the command alone keeps it idempotent, like the real one.
 */
export async function startResponder(
  names: TopicNames,
  decide: Decide,
): Promise<{ commands: MoneyOperation[]; stop: () => Promise<void> }> {
  const producer = await testProducer();
  const consumer = testKafka().consumer({ groupId: uniqueName('responder'), maxWaitTimeInMs: 100 });
  const commands: MoneyOperation[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: names.moneyOperations, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const answers: MoneyOperationResult[] = [];
      for (const m of batch.messages) {
        const d = decode('moneyOperations', m.value, m.headers);
        if (!d.ok) throw new Error(`responder got an invalid command: ${d.error}`);
        commands.push(d.value);
        const answer = decide(d.value);
        if (answer) answers.push(resultFor(d.value, answer));
      }
      await publish(
        producer,
        names,
        'moneyOperationResults',
        answers.map((a) => ({ key: operationKey(a), value: a })),
      );
    },
  });
  return {
    commands,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

/** money-storage's own answer shape, as the stand-in's reply. */
export const resultFor = (
  op: MoneyOperation,
  answer: Pick<MoneyOperationResult, 'outcome' | 'reason' | 'settled'>,
): MoneyOperationResult =>
  operationResultMessage(op, { ...answer, balanceAfter: answer.outcome === 'APPLIED' ? '1000' : null });

export interface StatusSeen {
  paymentId: string;
  status: string;
  reason: string | null;
  seq: number;
  key: string;
  headers: Record<string, string>;
}

/** The status events among collected messages, in topic order (per payment: partition order). */
export function statuses(
  messages: Array<{ topic: string; key: string; value: unknown; headers: Record<string, string> }>,
  topic: string,
): StatusSeen[] {
  return messages
    .filter((m) => m.topic === topic)
    .map((m) => {
      const v = m.value as { paymentId: string; status: string; reason: string | null; seq: number };
      return { paymentId: v.paymentId, status: v.status, reason: v.reason, seq: v.seq, key: m.key, headers: m.headers };
    });
}

/** Payment id → its terminal statuses seen so far. */
export function terminals(seen: StatusSeen[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of seen) {
    if (!(TERMINAL_STATUSES as readonly string[]).includes(s.status)) continue;
    out.set(s.paymentId, [...(out.get(s.paymentId) ?? []), s.status]);
  }
  return out;
}
