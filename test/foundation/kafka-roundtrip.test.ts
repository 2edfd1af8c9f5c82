import { decode } from '../../common/kafka/contracts';
import { createKafka, createProducer, publish } from '../../common/kafka/client';
import { createLogger } from '../../common/logger';
import { asPaymentId, asUserId, newPaymentId } from '../../common/ids';
import { collect, eventually, freshTopics, kafkaBrokers } from '../support/infra';

describe('a real Kafka broker', () => {
  it('carries a validated message with event-id and traceparent headers through a topic and back', async () => {
    const { names } = await freshTopics('roundtrip');
    const kafka = createKafka({
      brokers: kafkaBrokers(),
      clientId: 'roundtrip',
      logger: createLogger('test', 'silent'),
    });
    const producer = createProducer(kafka);
    await producer.connect();
    const collector = await collect([names.payments]);
    try {
      const paymentId = newPaymentId();
      await publish(producer, names, 'payments', [
        {
          key: paymentId,
          value: {
            version: 1,
            type: 'PAYMENT_REQUESTED',
            paymentId: asPaymentId(paymentId),
            userId: asUserId('42'),
            amount: 1500,
            currency: 'EUR',
            createdAt: new Date().toISOString(),
          },
        },
      ]);
      const got = await eventually('the message to come back', () =>
        collector.messages.find((m) => m.key === paymentId),
      );
      expect(got.headers['event-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(got.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const decoded = decode('payments', Buffer.from(JSON.stringify(got.value)), got.headers);
      expect(decoded).toMatchObject({ ok: true, value: { paymentId, amount: 1500, currency: 'EUR', userId: '42' } });
    } finally {
      await collector.stop();
      await producer.disconnect();
    }
  });

  it('refuses to publish a message that breaks its topic schema', async () => {
    const { names } = await freshTopics('refuse');
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'refuse', logger: createLogger('test', 'silent') });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const bad = {
        version: 1,
        type: 'PAYMENT_REQUESTED',
        paymentId: 'not-a-uuid',
        userId: '1',
        amount: -5,
        currency: 'XXX',
        createdAt: 'now',
      };
      await expect(publish(producer, names, 'payments', [{ key: 'k', value: bad as never }])).rejects.toThrow(
        /invalid payments message/,
      );
    } finally {
      await producer.disconnect();
    }
  });
});
