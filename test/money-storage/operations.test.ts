import { newTraceparent } from '../../common/kafka/client';
import type { MoneyStorage } from '../../money-storage/src/service';
import { eventually } from '../support/infra';
import { SERVICE_TOKEN, createHarness, debit, deposit, fund, newUserId, seed, type Harness } from './harness';

describe('money-storage handles money-operations', () => {
  let h: Harness;
  let service: MoneyStorage;

  beforeAll(async () => {
    h = await createHarness('ms_ops');
    service = await h.start();
  });
  afterAll(() => h.close());

  it('applies a debit, publishes APPLIED keyed by payment id with the incoming traceparent, and records it in the ledger', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await fund(h, user, 1000);
    const op = debit(user, 300);
    const traceparent = newTraceparent();
    await h.send([op], traceparent);
    const [result] = await h.waitResults(op.operationId);
    expect(result).toMatchObject({
      outcome: 'APPLIED',
      reason: null,
      balanceAfter: '700',
      kind: 'DEBIT',
      paymentId: op.paymentId,
      userId: user,
    });
    const message = h.received.find((m) => (m.value as { operationId?: string }).operationId === op.operationId)!;
    expect(message.key).toBe(op.paymentId);
    expect(message.headers.traceparent).toBe(traceparent);
    expect(message.headers['event-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await h.balance(user)).toBe('700');
    expect(await h.ledgerSum(user)).toBe('700');
  });

  it('rejects a debit larger than the balance with INSUFFICIENT_FUNDS and moves nothing', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await fund(h, user, 100);
    const op = debit(user, 101);
    await h.send([op]);
    const [result] = await h.waitResults(op.operationId);
    expect(result).toMatchObject({ outcome: 'REJECTED', reason: 'INSUFFICIENT_FUNDS', balanceAfter: null });
    expect(await h.balance(user)).toBe('100');
  });

  it('rejects a blocked user, an unknown user and a missing currency account', async () => {
    const blocked = newUserId();
    h.gateway.users.set(blocked, 'BLOCKED');
    const unknown = newUserId();
    const noEuro = newUserId();
    h.gateway.users.set(noEuro, 'ACTIVE');
    await fund(h, noEuro, 500, 'USD');
    const ops = [debit(blocked, 10), debit(unknown, 10), debit(noEuro, 10, 'EUR')];
    await h.send(ops);
    const reasons = await Promise.all(ops.map(async (op) => (await h.waitResults(op.operationId))[0]));
    expect(reasons.map((r) => [r?.outcome, r?.reason])).toEqual([
      ['REJECTED', 'USER_BLOCKED'],
      ['REJECTED', 'USER_UNKNOWN'],
      ['REJECTED', 'ACCOUNT_MISSING'],
    ]);
    expect(await h.balance(noEuro, 'USD')).toBe('500');
    expect(await h.balance(noEuro, 'EUR')).toBeNull();
  });

  it('applies a duplicated debit once and answers both copies the same', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await fund(h, user, 1000);
    const op = debit(user, 250);
    await h.send([op, op]);
    await h.send([op]);
    const results = await h.waitResults(op.operationId, 3);
    expect(results.map((r) => [r.outcome, r.balanceAfter])).toEqual([
      ['APPLIED', '750'],
      ['APPLIED', '750'],
      ['APPLIED', '750'],
    ]);
    expect(await h.balance(user)).toBe('750');
    const { rows } = await h.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM money.ledger_entries WHERE operation_id = $1',
      [op.operationId],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it.each(['FAIL_503', 'DROP_CONNECTION', 'HANG'] as const)(
    'fails with GATEWAY_UNAVAILABLE after bounded retries when the gateway is %s, moving no money, and remembers it',
    async (mode) => {
      const user = newUserId();
      await seed(h, user, 1000);
      h.gateway.users.set(user, mode);
      const op = debit(user, 100);
      await h.send([op]);
      const [result] = await h.waitResults(op.operationId);
      expect(result).toMatchObject({ outcome: 'FAILED', reason: 'GATEWAY_UNAVAILABLE', balanceAfter: null });
      // One attempt plus GATEWAY_RETRIES=2, then it gave up.
      expect(h.gateway.requests.get(user)).toBe(3);
      expect(await h.balance(user)).toBe('1000');

      h.gateway.users.set(user, 'ACTIVE');
      await h.send([op]);
      const again = await h.waitResults(op.operationId, 2);
      expect(again[1]).toMatchObject({ outcome: 'FAILED', reason: 'GATEWAY_UNAVAILABLE' });
      expect(await h.balance(user)).toBe('1000');
    },
  );

  it('asks the gateway once for a burst of one user’s debits (cache + coalescing)', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await fund(h, user, 10_000);
    h.gateway.requests.delete(user);
    const ops = Array.from({ length: 50 }, () => debit(user, 10));
    await h.send(ops);
    await Promise.all(ops.map((op) => h.waitResults(op.operationId)));
    expect(h.gateway.requests.get(user) ?? 0).toBeLessThanOrEqual(1);
    expect(await h.balance(user)).toBe('9500');
  });

  it('sends an invalid command to the DLQ and carries on with the next one', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await h.producer.send({
      topic: h.names.moneyOperations,
      messages: [{ key: 'bad', value: '{"version":1,"kind":"DEBIT","amount":-5}' }],
    });
    const op = deposit(user, 42);
    await h.send([op]);
    await h.waitResults(op.operationId);
    const parked = await eventually('the bad command in the DLQ', () =>
      h.received.find((m) => m.topic === `${h.names.moneyOperations}.dlq`),
    );
    expect(parked.key).toBe('bad');
    expect(parked.headers['dlq-error']).toMatch(/schema violation/);
  });

  it('serves balances on GET /internal/accounts/:userId behind the service token, on the internal port only', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await fund(h, user, 1234, 'EUR');
    await fund(h, user, 99, 'USD');
    expect(
      (
        await fetch(`http://127.0.0.1:${service.port}/internal/accounts/${user}`, {
          headers: { 'x-service-token': SERVICE_TOKEN },
        })
      ).status,
    ).toBe(404);
    const url = `http://127.0.0.1:${service.internalPort}/internal/accounts/${user}`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { 'x-service-token': 'wrong-token-wrong-token' } })).status).toBe(401);
    const res = await fetch(url, { headers: { 'x-service-token': SERVICE_TOKEN } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      userId: user,
      accounts: [
        { currency: 'EUR', balance: '1234' },
        { currency: 'USD', balance: '99' },
      ],
    });
    const ready = await fetch(`http://127.0.0.1:${service.port}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { kafka: true, database: true } });
  });
});
