import type { Producer } from 'kafkajs';
import { toKafkaMessage } from '../../common/kafka/client';
import { dlqOf } from '../../common/kafka/topics';
import { asPaymentId, asUserId } from '../../common/ids';
import type { PaymentStatus } from '../../common/payment-status';
import { statusChangedMessage } from '../../common/kafka/messages';
import { CreatePayment } from '../../client/operations';
import { collect, eventually, testKafka } from '../support/infra';
import { refuseWrites } from '../support/refusing-trigger';
import { paymentRow, startTestGateway, userIdOf, type TestGateway } from './harness';

/**
 * The status writer applies a batch in one UPDATE. An event Postgres refuses for good must cost
 * one DLQ entry, not the partition; one refused for a moment must be applied once it passes.
 */
let t: TestGateway;
let dlq: Awaited<ReturnType<typeof collect>>;
let producer: Producer;
beforeAll(async () => {
  t = await startTestGateway('status_poison');
  dlq = await collect([dlqOf(t.names.statusPayments)]);
  producer = testKafka().producer();
  await producer.connect();
});
afterAll(async () => {
  await Promise.all([dlq?.stop(), producer?.disconnect()]);
  await t?.stop();
});

const pay = async (user: string): Promise<string> =>
  (await t.client(user).data(CreatePayment, { input: { amount: 100, currency: 'USD' } })).createPayment.id;

/** Postgres refuses the PROCESSING update of one payment. */
const refuseUpdates = (paymentId: string, sqlstate: string, times: 'always' | number) =>
  refuseWrites(
    t.sql,
    {
      schema: 'gateway',
      table: 'payments',
      event: 'UPDATE',
      when: `NEW.id = '${paymentId}' AND NEW.status = 'PROCESSING'`,
    },
    sqlstate,
    times,
  );

/**
 * PROCESSING for each payment, in one send to partition 0 (one batch, one UPDATE for the writer)
 * or, with `spread`, to partitions 0, 1, 2...: batches the writer handles concurrently, whose
 * UPDATEs it shares.
 */
async function processingTogether(userId: string, paymentIds: string[], spread = false): Promise<void> {
  const event = (paymentId: string, status: PaymentStatus) =>
    statusChangedMessage({ paymentId: asPaymentId(paymentId), userId: asUserId(userId) }, status, null);
  const messages = paymentIds.map((id, i) => ({
    ...toKafkaMessage('statusPayments', { key: id, value: event(id, 'PROCESSING') }),
    partition: spread ? i : 0,
  }));
  await producer.send({ topic: t.names.statusPayments, acks: -1, messages });
}

const statusOf = async (id: string): Promise<string | undefined> => (await paymentRow(t, id))?.status;
const processing = (ids: string[]) =>
  eventually('PROCESSING applied', async () =>
    (await Promise.all(ids.map(statusOf))).every((s) => s === 'PROCESSING') ? true : undefined,
  );

it('parks the one event Postgres refuses for good (22023) and applies the rest of its batch', async () => {
  const [a, poison, b] = [await pay('fay'), await pay('fay'), await pay('fay')];
  await refuseUpdates(poison, '22023', 'always');
  await processingTogether(await userIdOf(t, 'fay'), [a, poison, b]);

  await processing([a, b]);
  const parked = await eventually('the refused event in the DLQ', () => dlq.messages.find((m) => m.key === poison));
  expect(parked.headers).toMatchObject({
    'dlq-error': '22023: refused by a test trigger',
    'dlq-class': 'deterministic',
    'dlq-source-partition': '0',
  });
  expect(await statusOf(poison)).not.toBe('PROCESSING');
  expect(dlq.messages.filter((m) => m.key !== poison)).toEqual([]);
});

it('parks only the refused event when the batches of several partitions share a statement', async () => {
  const ids = await Promise.all(['hal', 'hal', 'hal', 'hal'].map(pay));
  const poison = ids[1]!;
  await refuseUpdates(poison, '22023', 'always');
  await processingTogether(await userIdOf(t, 'hal'), ids, true);

  const others = ids.filter((id) => id !== poison);
  await processing(others);
  const parked = await eventually('the refused event in the DLQ', () => dlq.messages.find((m) => m.key === poison));
  expect(parked.headers).toMatchObject({ 'dlq-class': 'deterministic', 'dlq-source-partition': '1' });
  expect(dlq.messages.filter((m) => others.includes(String(m.key)))).toEqual([]);
});

it('retries an event Postgres refuses for a moment (40P01, twice) in place until it applies', async () => {
  const [flaky, other] = [await pay('gus'), await pay('gus')];
  const trigger = await refuseUpdates(flaky, '40P01', 2);
  await processingTogether(await userIdOf(t, 'gus'), [flaky, other]);

  await processing([flaky, other]);
  expect(await trigger.attempts()).toBe(3); // two refused, the third applied
  expect(dlq.messages.filter((m) => m.key === flaky)).toEqual([]);
});
