import { CreatePayment, GetPayment, GetPaymentStatus, MyPayments } from '../../client/operations';
import { collect, eventually } from '../support/infra';
import { countRows, paymentRow, startTestGateway, type TestGateway } from './harness';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('create');
});
afterAll(() => t?.stop());

describe('createPayment', () => {
  it('answers CREATED after the broker acks, with the row in the DB and the message in `payments`', async () => {
    const collector = await collect([t.names.payments, t.names.statusPayments]);
    try {
      const alice = t.client('alice');
      const { createPayment } = await alice.data(CreatePayment, { input: { amount: 12_345, currency: 'EUR' } });
      expect(createPayment).toMatchObject({
        status: 'CREATED',
        payment: { amount: 12_345, currency: 'EUR', userName: 'alice', status: 'CREATED' },
      });
      expect(await paymentRow(t, createPayment.id)).toMatchObject({ status: 'CREATED', amount: 12_345 });

      const sent = await eventually('the payment in `payments`', () =>
        collector.messages.find((m) => m.topic === t.names.payments && m.key === createPayment.id),
      );
      expect(sent.value).toMatchObject({
        version: 1,
        type: 'PAYMENT_REQUESTED',
        paymentId: createPayment.id,
        amount: 12_345,
        currency: 'EUR',
      });
      expect(sent.headers['event-id']).toBeDefined();
      const created = await eventually('its CREATED event', () =>
        collector.messages.find((m) => m.topic === t.names.statusPayments && m.key === createPayment.id),
      );
      expect(created.value).toMatchObject({ status: 'CREATED', seq: 1 });

      expect((await alice.data(GetPayment, { id: createPayment.id })).payment).toMatchObject({
        id: createPayment.id,
        status: 'CREATED',
      });
      expect((await alice.data(GetPaymentStatus, { id: createPayment.id })).paymentStatus).toBe('CREATED');
      expect(await countRows(t)).toMatchObject({ outbox: 0 });
    } finally {
      await collector.stop();
    }
  });

  it('returns the first payment for a repeated idempotency key from the same user, never a second one', async () => {
    const bob = t.client('bob');
    const input = { amount: 500, currency: 'USD' as const, idempotencyKey: 'order-17' };
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => bob.data(CreatePayment, { input })));
    const ids = new Set(answers.map((a) => a.createPayment.id));
    expect(ids.size).toBe(1);
    const { myPayments } = await bob.data(MyPayments, {});
    expect(myPayments.totalCount).toBe(1);
    // The same key from someone else is their own payment.
    const carol = await t.client('carol').data(CreatePayment, { input });
    expect(ids.has(carol.createPayment.id)).toBe(false);
  });

  it('lists only the caller’s payments, newest first, with cursor pagination and a status filter', async () => {
    const dave = t.client('dave');
    const created: string[] = [];
    for (let i = 1; i <= 5; i++)
      created.push((await dave.data(CreatePayment, { input: { amount: i, currency: 'RUB' } })).createPayment.id);
    const first = (await dave.data(MyPayments, { first: 2 })).myPayments;
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e) => e.node.id)).toEqual([created[4], created[3]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await dave.data(MyPayments, { first: 10, after: first.pageInfo.endCursor })).myPayments;
    expect(rest.edges.map((e) => e.node.id)).toEqual([created[2], created[1], created[0]]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect((await dave.data(MyPayments, { status: 'COMPLETED' })).myPayments.totalCount).toBe(0);
  });
});
