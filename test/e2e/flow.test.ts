import { subscribe } from '../../client/gateway-client';
import {
  CreatePayment,
  Deposit,
  GetPayment,
  GetPaymentStatus,
  MyAccounts,
  MyPayments,
  WatchMyPayments,
  WatchPayment,
} from '../../client/operations';
import { eventually } from '../support/infra';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/** A user's view of the whole system: three services as processes, real Kafka and Postgres, short delays. */
let e2e: E2ESystem;
beforeAll(async () => {
  e2e = await startE2E('flow', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '20', PAYMASTER_DELAY_MAX_MS: '120', USER_CACHE_TTL_MS: '0' },
  });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

async function depositAndWait(user: string, amount: number): Promise<void> {
  const client = e2e.client(user);
  const before = await balance(user);
  expect(
    (await client.data(Deposit, { amount, currency: 'EUR', idempotencyKey: `${user}-${amount}` })).deposit.status,
  ).toBe('ACCEPTED');
  await eventually(
    `${user}'s deposit`,
    async () => ((await balance(user)) === before + amount ? true : undefined),
    30_000,
  );
}

async function balance(user: string): Promise<number> {
  const { myAccounts } = await e2e.client(user).data(MyAccounts);
  return Number(myAccounts.find((a) => a.currency === 'EUR')?.balance ?? 0);
}

async function userId(user: string): Promise<string> {
  const { rows } = await e2e.sql.query<{ id: string }>('SELECT id FROM gateway.users WHERE user_name = $1', [user]);
  return String(rows[0]!.id);
}

describe('end to end', () => {
  it('deposits, pays, and streams CREATED → PROCESSING → COMPLETED; every view agrees', async () => {
    const alice = e2e.client('alice');
    await depositAndWait('alice', 10_000);
    let probes = 0;
    const ws = alice.connect();
    try {
      const mine = subscribe(ws, WatchMyPayments);
      await eventually('the subscription to start', async () => {
        // The socket acknowledges before the subscription is live; a probe payment tells us when it is.
        const probe = await alice.data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
        probes += 1;
        return mine.events.some((e) => e.myPaymentStatuses.paymentId === probe.createPayment.id) ? true : undefined;
      });
      const { createPayment } = await alice.data(CreatePayment, { input: { amount: 2_500, currency: 'EUR' } });
      expect(['CREATED', 'NEW']).toContain(createPayment.status);
      const one = subscribe(ws, WatchPayment, { id: createPayment.id });
      await one.done;
      const statuses = one.events.map((e) => e.paymentStatus.status);
      expect(statuses.at(-1)).toBe('COMPLETED');
      expect(statuses).toEqual([...new Set(statuses)]); // each at most once, in the order they happened
      await eventually('all three statuses on myPaymentStatuses', () =>
        mine.events.filter((e) => e.myPaymentStatuses.paymentId === createPayment.id).length === 3 ? true : undefined,
      );
      expect(
        mine.events
          .filter((e) => e.myPaymentStatuses.paymentId === createPayment.id)
          .map((e) => e.myPaymentStatuses.status),
      ).toEqual(['CREATED', 'PROCESSING', 'COMPLETED']);
    } finally {
      await ws.dispose();
    }
    const [payment] = (await alice.data(MyPayments, { first: 1 })).myPayments.edges.map((e) => e.node);
    await awaitTerminal(e2e.sql, [payment!.id], 30_000);
    expect((await alice.data(GetPayment, { id: payment!.id })).payment).toMatchObject({
      status: 'COMPLETED',
      amount: 2_500,
    });
    expect((await alice.data(GetPaymentStatus, { id: payment!.id })).paymentStatus).toBe('COMPLETED');
    const rest = await fetch(`${e2e.system.url('gateway')}/api/payments/${payment!.id}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(await rest.json()).toMatchObject({ id: payment!.id, status: 'COMPLETED', amount: 2_500 });
    await eventually('the balance after the payments', async () =>
      (await balance('alice')) === 10_000 - 2_500 - probes ? true : undefined,
    );
  });

  it('rejects a payment larger than the balance with INSUFFICIENT_FUNDS and moves no money', async () => {
    const bob = e2e.client('bob');
    await depositAndWait('bob', 1_000);
    const { createPayment } = await bob.data(CreatePayment, { input: { amount: 5_000, currency: 'EUR' } });
    await awaitTerminal(e2e.sql, [createPayment.id], 30_000);
    expect((await bob.data(GetPayment, { id: createPayment.id })).payment).toMatchObject({
      status: 'REJECTED',
      reason: 'INSUFFICIENT_FUNDS',
    });
    expect(await balance('bob')).toBe(1_000);
  });

  it('refuses a blocked user at the gateway, blocked through its internal port only', async () => {
    const carol = e2e.client('carol');
    await depositAndWait('carol', 1_000);
    const carolId = await userId('carol');
    const block = (base: string) =>
      fetch(`${base}/internal/users/${carolId}/status`, {
        method: 'PUT',
        headers: { 'x-service-token': e2e.serviceToken },
        body: JSON.stringify({ status: 'BLOCKED' }),
      });
    expect((await block(e2e.system.url('gateway'))).status).toBe(404);
    expect((await block(e2e.system.internalUrl('gateway'))).status).toBe(200);
    const refused = await carol.request(CreatePayment, { input: { amount: 10, currency: 'EUR' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { rows } = await e2e.sql.query<{ balance: number }>(
      "SELECT balance::int AS balance FROM money.accounts WHERE user_id = $1 AND currency = 'EUR'",
      [carolId],
    );
    expect(rows[0]?.balance).toBe(1_000);
  });

  it('delivers on myPaymentStatuses every status of the user’s payments and nothing of anyone else’s', async () => {
    await Promise.all([depositAndWait('dora', 5_000), depositAndWait('eve', 5_000)]);
    const dora = e2e.client('dora');
    const ws = dora.connect();
    try {
      const sub = subscribe(ws, WatchMyPayments);
      await eventually('the subscription to start', async () => {
        const probe = await dora.data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
        return sub.events.some((e) => e.myPaymentStatuses.paymentId === probe.createPayment.id) ? true : undefined;
      });
      const eves = await Promise.all(
        [1, 2, 3].map(() => e2e.client('eve').data(CreatePayment, { input: { amount: 5, currency: 'EUR' } })),
      );
      const doras = await Promise.all(
        [1, 2, 3].map(() => dora.data(CreatePayment, { input: { amount: 5, currency: 'EUR' } })),
      );
      const ids = doras.map((d) => d.createPayment.id);
      await awaitTerminal(e2e.sql, [...ids, ...eves.map((e) => e.createPayment.id)], 30_000);
      await eventually('a terminal event for each of dora’s payments', () =>
        ids.every((id) =>
          sub.events.some((e) => e.myPaymentStatuses.paymentId === id && e.myPaymentStatuses.status === 'COMPLETED'),
        )
          ? true
          : undefined,
      );
      const eveIds = new Set(eves.map((e) => e.createPayment.id));
      expect(sub.events.some((e) => eveIds.has(e.myPaymentStatuses.paymentId))).toBe(false);
      for (const id of ids) {
        expect(
          sub.events.filter((e) => e.myPaymentStatuses.paymentId === id).map((e) => e.myPaymentStatuses.status),
        ).toEqual(['CREATED', 'PROCESSING', 'COMPLETED']);
      }
    } finally {
      await ws.dispose();
    }
  });

  it('passes reconcile afterwards', async () => {
    const { code, report } = await e2e.reconcile();
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  });
});
