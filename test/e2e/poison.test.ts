import { Kafka, logLevel } from 'kafkajs';
import { dlqOf, topicNames, TOPIC_KEYS } from '../../common/kafka/topics';
import { CreatePayment, Deposit, MyAccounts } from '../../client/operations';
import { SERVICES } from '../../infra/stack';
import { collect, eventually } from '../support/infra';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/**
 * Poison on every topic of a running system: each service parks what it cannot read in the
 * topic's DLQ (money-operation-results is read by every paymaster process, which only log it),
 * none crashes, and payments keep flowing.
 */
let e2e: E2ESystem;
beforeAll(async () => {
  e2e = await startE2E('poison', { ownKafka: false, env: { PAYMASTER_DELAY_MIN_MS: '5', PAYMASTER_DELAY_MAX_MS: '20' } });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

const POISON = [
  { key: 'k1', value: 'not json at all' },
  { key: 'k2', value: '{"version": 1, "type": "PAYMENT_REQUESTED", "amount": -5}' },
  { key: 'k3', value: `{"version": 99, "paymentId": "'; DROP TABLE gateway.payments; --"}` },
  { key: 'k4', value: '' },
];

it('parks malformed messages in the DLQs, keeps every service up, and still completes payments', async () => {
  const names = topicNames(e2e.system.env.KAFKA_TOPIC_PREFIX);
  const dlqs = collect([dlqOf(names.payments), dlqOf(names.statusPayments), dlqOf(names.moneyOperations)]);
  const kafka = new Kafka({ brokers: e2e.system.infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const collector = await dlqs;
  try {
    for (const key of TOPIC_KEYS) await producer.send({ topic: names[key], messages: POISON });
    await eventually('every poison message in its DLQ', async () => {
      const per = (topic: string) => collector.messages.filter((m) => m.topic === topic).length;
      return [names.payments, names.statusPayments, names.moneyOperations].every((t) => per(dlqOf(t)) >= POISON.length) ? true : undefined;
    }, 60_000);
    const parked = collector.messages.find((m) => m.topic === dlqOf(names.moneyOperations));
    expect(parked?.headers['dlq-error']).toBeTruthy();

    const client = e2e.client('survivor');
    await client.data(Deposit, { amount: 1_000, currency: 'EUR', idempotencyKey: 'seed' });
    await eventually('the deposit', async () => ((await client.data(MyAccounts)).myAccounts.length === 1 ? true : undefined), 30_000);
    const { createPayment } = await client.data(CreatePayment, { input: { amount: 10, currency: 'EUR' } });
    expect(await awaitTerminal(e2e.sql, [createPayment.id], 30_000)).toEqual({ COMPLETED: 1 });
    for (const name of SERVICES) {
      expect(e2e.system.service(name)?.child.exitCode).toBeNull();
      expect((await fetch(`${e2e.system.url(name)}/readyz`)).status).toBe(200);
    }
  } finally {
    await producer.disconnect();
    await collector.stop();
  }
});
