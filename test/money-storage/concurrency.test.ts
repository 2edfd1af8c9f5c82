import { asOperationId, asPaymentId, newPaymentId, type UserId } from '../../common/ids';
import type { Movement } from '../../money-storage/src/ledger';
import { createHarness, debit, ledgerWithOneAccount, newUserId, seed, type Harness } from './harness';

const debitOf = (userId: UserId, amount: number): Movement => {
  const id = newPaymentId();
  return {
    operationId: asOperationId(id),
    kind: 'DEBIT',
    paymentId: asPaymentId(id),
    userId,
    currency: 'USD',
    amount,
    settle: true,
  };
};

const countBy = (values: string[]): Record<string, number> =>
  values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

describe('concurrent debits on one account', () => {
  it('never overdraw it when 200 debits hit the ledger at once (row lock + conditional update)', async () => {
    const { ledger, user, database } = await ledgerWithOneAccount('ms_race');
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => {
          const id = newPaymentId();
          return ledger.debit(
            {
              operationId: asOperationId(id),
              kind: 'DEBIT',
              paymentId: asPaymentId(id),
              userId: user,
              currency: 'USD',
              amount: 30,
              settle: true,
            },
            0,
          );
        }),
      );
      // 1000 / 30: exactly 33 fit, leaving 10.
      expect(countBy(answers.map((a) => a.reason ?? a.outcome))).toEqual({ APPLIED: 33, INSUFFICIENT_FUNDS: 167 });
      const { rows } = await database.pool.query(
        `SELECT a.balance::text AS balance, (SELECT sum(amount)::text FROM money.ledger_entries WHERE user_id = $1) AS ledger FROM money.accounts a WHERE user_id = $1`,
        [user],
      );
      expect(rows[0]).toEqual({ balance: '10', ledger: '10' });
    } finally {
      await database.close();
    }
  });

  it('debits decided together share statements, in order per account, and answer each in input order', async () => {
    const { ledger, user, database } = await ledgerWithOneAccount('ms_many');
    try {
      const missing = newUserId();
      const ms = [debitOf(user, 400), debitOf(missing, 10), debitOf(user, 400), debitOf(user, 400), debitOf(user, 100)];
      const answers = await ledger.debitMany(ms, 0);
      expect(answers.map((a) => a.reason ?? `${a.outcome} ${a.balanceAfter}`)).toEqual([
        'APPLIED 600',
        'ACCOUNT_MISSING',
        'APPLIED 200',
        'INSUFFICIENT_FUNDS',
        'APPLIED 100',
      ]);
      const { rows } = await database.pool.query(
        `SELECT a.balance::text AS balance, (SELECT sum(amount)::text FROM money.ledger_entries WHERE user_id = $1) AS ledger,
           (SELECT count(*)::int FROM money.processed_operations) AS answers FROM money.accounts a WHERE user_id = $1`,
        [user],
      );
      expect(rows[0]).toEqual({ balance: '100', ledger: '100', answers: 5 });
    } finally {
      await database.close();
    }
  });

  it('never deadlock or overdraw when shared statements and single debits hit the same accounts in any order', async () => {
    const { ledger, user, database } = await ledgerWithOneAccount('ms_many_race');
    try {
      const others = Array.from({ length: 5 }, () => newUserId());
      for (const other of others)
        await database.pool.query(`INSERT INTO money.accounts (user_id, currency, balance) VALUES ($1, 'USD', 1000)`, [
          other,
        ]);
      const accounts = [user, ...others];
      // Each call names every account, in a rotated order; 1000 / 30 fit 33 times per account.
      const calls = Array.from({ length: 40 }, (_, i) => {
        const order = [...accounts.slice(i % 6), ...accounts.slice(0, i % 6)];
        return i % 4 === 0
          ? Promise.all(order.map((u) => ledger.debit(debitOf(u, 30), 0)))
          : ledger.debitMany(
              order.map((u) => debitOf(u, 30)),
              0,
            );
      });
      const answers = (await Promise.all(calls)).flat();
      expect(countBy(answers.map((a) => a.reason ?? a.outcome))).toEqual({
        APPLIED: 33 * 6,
        INSUFFICIENT_FUNDS: 240 - 33 * 6,
      });
      const { rows } = await database.pool.query<{ balance: string }>(
        `SELECT balance::text AS balance FROM money.accounts ORDER BY user_id`,
      );
      expect(rows.map((r) => r.balance)).toEqual(Array.from({ length: 6 }, () => '10'));
    } finally {
      await database.close();
    }
  });

  describe('through Kafka, across 8 partitions and two service processes', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness('ms_conc');
      await Promise.all([h.start(), h.start()]);
    });
    afterAll(() => h.close());

    it('apply only what the balance covers: balance >= 0 and ledger = balance', async () => {
      const user = newUserId();
      h.gateway.users.set(user, 'ACTIVE');
      await seed(h, user, 5000);
      const ops = Array.from({ length: 200 }, () => debit(user, 70));
      await h.send(ops);
      const results = await Promise.all(ops.map(async (op) => (await h.waitResults(op.operationId, 1, 30_000))[0]!));
      // 5000 / 70: 71 fit, leaving 30.
      expect(countBy(results.map((r) => r.reason ?? r.outcome))).toEqual({ APPLIED: 71, INSUFFICIENT_FUNDS: 129 });
      expect(await h.balance(user)).toBe('30');
      expect(await h.ledgerSum(user)).toBe('30');
      const balancesAfter = results.filter((r) => r.outcome === 'APPLIED').map((r) => Number(r.balanceAfter));
      expect(new Set(balancesAfter).size).toBe(71);
      expect(Math.min(...balancesAfter)).toBe(30);
    });
  });
});
