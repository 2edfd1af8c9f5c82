import { randomUUID } from 'node:crypto';
import { CreatePayment } from '../../client/operations';
import { newTraceparent } from '../../common/kafka/client';
import { INVALID_PAYMENT_REASON, paymentRequestedMessage } from '../../common/kafka/messages';
import { dlqOf } from '../../common/kafka/topics';
import { asPaymentId, asUserId } from '../../common/ids';
import { collect, eventually } from '../support/infra';
import { countRows, startTestGateway, userIdOf, type TestGateway } from './harness';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('outbox_poison', { OUTBOX_RELAY_INTERVAL_MS: '100' });
});
afterAll(() => t?.stop());

/** A payment left NEW with its outbox row, as a crash or an outage leaves one, a minute old: the sweeper's. */
async function strand(userId: string, outbox: { topic?: string; key?: string; payload: unknown }): Promise<string> {
  const paymentId = randomUUID();
  await t.sql.query(
    `INSERT INTO gateway.payments (id, user_id, amount, currency, status) VALUES ($1, $2, 1, 'EUR', 'NEW')`,
    [paymentId, userId],
  );
  await t.sql.query(
    `INSERT INTO gateway.outbox (topic, message_key, payload, traceparent, created_at)
     VALUES ($1, $2, $3, $4, now() - interval '1 minute')`,
    [outbox.topic ?? 'payments', outbox.key ?? paymentId, JSON.stringify(outbox.payload), newTraceparent()],
  );
  return paymentId;
}

const statusOf = async (id: string) =>
  (
    await t.sql.query<{ status: string; reason: string | null }>(
      'SELECT status, reason FROM gateway.payments WHERE id = $1',
      [id],
    )
  ).rows[0];

describe('an outbox row that does not read as a payment', () => {
  it('is parked with its payment ended ERROR, and the rows behind it are published', async () => {
    const collector = await collect([t.names.payments, dlqOf(t.names.payments)]);
    try {
      const client = t.client('outboxer');
      await client.data(CreatePayment, { input: { amount: 1, currency: 'EUR' } }); // the user exists
      const userId = await userIdOf(t, 'outboxer');
      // Oldest first, so every sweep's batch starts with the unreadable ones.
      const wrongVersion = await strand(userId, { payload: { version: 99, amount: 1e300, hello: '\u0001' } });
      const wrongTopic = await strand(userId, { topic: 'money-operations', payload: {} });
      const orphanKey = await strand(userId, { key: 'not-a-uuid', payload: [] });
      const huge = await strand(userId, { payload: { blob: 'x'.repeat(300_000) } }); // more than the DLQ takes whole
      const good = randomUUID();
      const goodPayload = paymentRequestedMessage(
        { paymentId: asPaymentId(good), userId: asUserId(userId), amount: 1, currency: 'EUR' },
        new Date(),
      );
      await t.sql.query(
        `INSERT INTO gateway.payments (id, user_id, amount, currency, status) VALUES ($1, $2, 1, 'EUR', 'NEW')`,
        [good, userId],
      );
      await t.sql.query(
        `INSERT INTO gateway.outbox (topic, message_key, payload, traceparent, created_at)
         VALUES ('payments', $1, $2, $3, now() - interval '1 minute')`,
        [good.toUpperCase(), JSON.stringify(goodPayload), newTraceparent()], // keyed in upper case: still its payment's id
      );

      await eventually(
        'the outbox emptied',
        async () => ((await countRows(t)).outbox === 0 ? true : undefined),
        20_000,
      );
      await eventually(
        'the unreadable rows’ payments ended ERROR through status-payments',
        async () => {
          const ended = await Promise.all([wrongVersion, wrongTopic, huge].map(statusOf));
          return ended.every((p) => p?.status === 'ERROR') ? ended : undefined;
        },
        20_000,
      );
      expect(await statusOf(wrongVersion)).toEqual({ status: 'ERROR', reason: INVALID_PAYMENT_REASON });
      expect(await statusOf(good)).toEqual({ status: 'CREATED', reason: null });
      // Keyed by something that is no payment id: parked, and its payment (whose key it lacks) left to reconcile.
      expect(await statusOf(orphanKey)).toEqual({ status: 'NEW', reason: null });

      const parked = await eventually('four rows in payments.dlq', () => {
        const found = collector.messages.filter((m) => m.topic === dlqOf(t.names.payments));
        return found.length >= 4 ? found : undefined;
      });
      expect(parked.map((m) => m.key).sort()).toEqual(['not-a-uuid', wrongTopic, wrongVersion, huge].sort());
      const dropped = parked.filter((m) => m.headers['dlq-value-dropped'] !== undefined);
      expect(dropped.map((m) => [m.key, m.value])).toEqual([[huge, undefined]]);
      expect(parked.every((m) => m.headers['dlq-class'] === 'deterministic' && m.headers['dlq-source-outbox-id'])).toBe(
        true,
      );
      const published = await eventually('the good row in payments', () =>
        collector.messages.find((m) => m.topic === t.names.payments && m.key === good),
      );
      expect(published.value).toMatchObject({ paymentId: good, type: 'PAYMENT_REQUESTED' });
    } finally {
      await collector.stop();
    }
  });
});
