import jwt from 'jsonwebtoken';
import { GatewayClient } from '../../client/gateway-client';
import { CreditAccount, Deposit, GetCredit, MyAccounts } from '../../client/operations';
import { asOperationId, asUserId } from '../../common/ids';
import { eventually } from '../support/infra';
import { startTestGateway, userIdOf, type TestGateway } from './harness';

/** Where money may enter: an operator's audited credit, or a capped development deposit. */
let t: TestGateway;
let locked: TestGateway;
beforeAll(async () => {
  [t, locked] = await Promise.all([
    startTestGateway('money_entry', { SELF_DEPOSIT_MAX: '1000', SELF_DEPOSITS_PER_MINUTE: '5' }),
    startTestGateway('money_locked', { SELF_DEPOSIT_MAX: '0' }),
  ]);
});
afterAll(() => Promise.all([t?.stop(), locked?.stop()]));

const operator = (g: TestGateway, name = 'olga') =>
  new GatewayClient(
    g.url,
    jwt.sign({ roles: ['operator'] }, g.secret, { algorithm: 'HS256', subject: name, expiresIn: '5m' }),
  );
const deposits = async (g: TestGateway) =>
  (await g.sql.query<Record<string, unknown>>('SELECT * FROM gateway.deposits ORDER BY created_at')).rows;
const code = (r: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => r.errors?.[0]?.extensions?.code;

describe('self-service deposits', () => {
  it('are refused with FORBIDDEN when SELF_DEPOSIT_MAX is 0, and nothing is recorded', async () => {
    const r = await locked.client('saver').request(Deposit, { amount: 1, currency: 'EUR', idempotencyKey: 'd1' });
    expect(code(r)).toBe('FORBIDDEN');
    expect(await deposits(locked)).toEqual([]);
  });

  it('are capped per deposit and per minute', async () => {
    const c = t.client('capped');
    expect(code(await c.request(Deposit, { amount: 1001, currency: 'EUR', idempotencyKey: 'too-much' }))).toBe(
      'BAD_USER_INPUT',
    );
    for (let i = 0; i < 5; i++)
      expect(
        (await c.data(Deposit, { amount: 1000, currency: 'EUR', idempotencyKey: `cap-${i}` })).deposit.status,
      ).toBe('ACCEPTED');
    const sixth = await c.request(Deposit, { amount: 1, currency: 'EUR', idempotencyKey: 'cap-5' });
    expect(code(sixth)).toBe('RATE_LIMITED');
    expect(sixth.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('need an idempotency key, since a send that timed out may still land', async () => {
    const r = await t.client('keyless').request(Deposit, { amount: 10, currency: 'USD', idempotencyKey: '' });
    expect(code(r)).toBe('BAD_USER_INPUT');
    const raw = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.client('keyless').token}` },
      body: JSON.stringify({ query: 'mutation { deposit(amount: 10, currency: USD) { operationId } }' }),
    });
    expect(((await raw.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
  });

  it('are idempotent per key, a hash of it in the operation id, and a conflict with other parameters', async () => {
    const c = t.client('keyed');
    const key = 'k'.repeat(64);
    const first = (await c.data(Deposit, { amount: 10, currency: 'USD', idempotencyKey: key })).deposit;
    expect(first.operationId).toMatch(/^deposit:[0-9a-f]{64}$/);
    expect((await c.data(Deposit, { amount: 10, currency: 'USD', idempotencyKey: key })).deposit.operationId).toBe(
      first.operationId,
    );
    expect(code(await c.request(Deposit, { amount: 11, currency: 'USD', idempotencyKey: key }))).toBe('CONFLICT');
    expect(code(await c.request(Deposit, { amount: 10, currency: 'EUR', idempotencyKey: key }))).toBe('CONFLICT');
    expect((await deposits(t)).filter((d) => d.operation_id === first.operationId)).toHaveLength(1);
  });
});

describe('operator credits', () => {
  it('are for operators only, need an idempotency key, and name an existing user', async () => {
    await t.client('payee').data(Deposit, { amount: 1, currency: 'EUR', idempotencyKey: 'exists' });
    const before = (await deposits(t)).length;
    const vars = { userName: 'payee', amount: 500, currency: 'EUR' as const, idempotencyKey: 'op-1' };
    expect(code(await t.client('not-an-operator').request(CreditAccount, vars))).toBe('FORBIDDEN');
    const forged = new GatewayClient(
      t.url,
      jwt.sign({ roles: ['operator'] }, 'a-different-secret-that-is-long-enough', {
        algorithm: 'HS256',
        subject: 'eve',
        expiresIn: '5m',
      }),
    );
    expect(code(await forged.request(CreditAccount, vars))).toBe('UNAUTHENTICATED');
    expect(code(await operator(t).request(CreditAccount, { ...vars, userName: 'nobody-by-this-name' }))).toBe(
      'NOT_FOUND',
    );
    expect(code(await operator(t).request(CreditAccount, { ...vars, idempotencyKey: '' }))).toBe('BAD_USER_INPUT');
    await operator(t).request(GetCredit, { operationId: 'deposit:none' }); // olga exists as a user now
    const self = await operator(t).request(CreditAccount, { ...vars, userName: 'olga' });
    expect(code(self)).toBe('FORBIDDEN');
    expect(self.errors?.[0]?.message).toBe('an operator may not credit their own account');
    expect((await deposits(t)).length).toBe(before);
  });

  it('credit the named user once per key, recorded with who asked', async () => {
    const vars = { userName: 'payee', amount: 2500, currency: 'GBP' as const, idempotencyKey: 'op-2' };
    const credit = (await operator(t).data(CreditAccount, vars)).creditAccount;
    expect(credit).toMatchObject({ userName: 'payee', amount: 2500, currency: 'GBP', status: 'ACCEPTED' });
    expect((await operator(t).data(CreditAccount, vars)).creditAccount.operationId).toBe(credit.operationId);
    expect(code(await operator(t).request(CreditAccount, { ...vars, userName: 'capped' }))).toBe('CONFLICT');
    const [row] = (await deposits(t)).filter((d) => d.operation_id === credit.operationId);
    expect(row).toMatchObject({
      requested_by: 'olga',
      channel: 'OPERATOR',
      amount: 2500,
      currency: 'GBP',
      idempotency_key: 'op-2',
    });
  });

  it('are PENDING for the payee and the operator, hidden from others, until money-storage answers', async () => {
    const { creditAccount } = await operator(t).data(CreditAccount, {
      userName: 'payee',
      amount: 900,
      currency: 'EUR',
      idempotencyKey: 'op-watch',
    });
    const id = { operationId: creditAccount.operationId };
    expect((await operator(t).data(GetCredit, id)).credit).toMatchObject({
      status: 'PENDING',
      userName: 'payee',
      requestedBy: 'olga',
      channel: 'OPERATOR',
      decidedAt: null,
    });
    expect((await t.client('payee').data(GetCredit, id)).credit?.status).toBe('PENDING');
    expect((await t.client('capped').data(GetCredit, id)).credit).toBeNull();
    const userId = asUserId(await userIdOf(t, 'payee'));
    const answer = {
      version: 1,
      operationId: asOperationId(creditAccount.operationId),
      kind: 'CREDIT',
      paymentId: null,
      userId,
      balanceAfter: null,
      at: new Date().toISOString(),
    } as const;
    await t.emitResult({ ...answer, outcome: 'REJECTED', reason: 'USER_UNKNOWN' });
    await t.emitResult({ ...answer, outcome: 'APPLIED', reason: null, balanceAfter: '900' });
    const decided = await eventually('the answer recorded', async () => {
      const { credit } = await t.client('payee').data(GetCredit, id);
      return credit?.status === 'PENDING' ? undefined : credit;
    });
    // The first answer stays: money-storage answers a command again only from what it stored.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers (expect.any, expect.stringMatching) are typed any
    expect(decided).toMatchObject({ status: 'REJECTED', reason: 'USER_UNKNOWN', decidedAt: expect.any(String) });
  });

  it('work while self-service deposits are off', async () => {
    await locked.client('locked-payee').request(MyAccounts);
    const r = await operator(locked).request(CreditAccount, {
      userName: 'locked-payee',
      amount: 7,
      currency: 'EUR',
      idempotencyKey: 'op-3',
    });
    expect(r.data?.creditAccount.status).toBe('ACCEPTED');
  });
});
