import { asOperationId, asPaymentId, newPaymentId, type UserId } from '../../common/ids';
import type { MoneyOperationResult } from '../../common/kafka/contracts';
import { reversalId } from '../../common/kafka/messages';
import { Ledger } from '../../money-storage/src/ledger';
import {
  afterRejectedDebit,
  appliedUnsettledDebit,
  compensation,
  startedHarness,
  debit,
  ledgerWithOneAccount,
  newUserId,
  seed,
  settle,
  unsettledDebit,
  type Harness,
} from './harness';

describe('settles', () => {
  let h: Harness;
  beforeAll(async () => (h = await startedHarness('ms_settle')));
  afterAll(() => h.close());

  const debitRow = async (debitId: string): Promise<{ settled_at: Date | null; reversed_by: string | null }> => {
    const { rows } = await h.pool.query<{ settled_at: Date | null; reversed_by: string | null }>(
      'SELECT settled_at, reversed_by FROM money.processed_operations WHERE operation_id = $1',
      [debitId],
    );
    return rows[0]!;
  };
  const reversals = async (debitId: string): Promise<number> => {
    const { rows } = await h.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM money.ledger_entries WHERE reverses = $1',
      [debitId],
    );
    return rows[0]!.n;
  };
  const isStored = async (operationId: string): Promise<boolean> => {
    const { rowCount } = await h.pool.query('SELECT 1 FROM money.processed_operations WHERE operation_id = $1', [
      operationId,
    ]);
    return rowCount === 1;
  };
  it('make an applied debit final, asking nobody; asked again they answer the same and move nothing', async () => {
    const op = await appliedUnsettledDebit(h);
    // Blocked since the debit: the payment was paid and must still be able to complete.
    h.gateway.users.set(op.userId, 'BLOCKED');
    const lookupsBefore = h.gateway.requests.get(op.userId);
    const final = settle(op);
    await h.send([final]);
    const [first] = await h.waitResults(final.operationId);
    expect(first).toMatchObject({
      kind: 'SETTLE',
      paymentId: op.paymentId,
      userId: op.userId,
      outcome: 'APPLIED',
      reason: null,
      balanceAfter: '700',
    });
    const settledAt = (await debitRow(op.operationId)).settled_at;
    expect(settledAt).toBeInstanceOf(Date);

    await h.send([final]);
    const [, again] = await h.waitResults(final.operationId, 2);
    expect(again).toMatchObject({ outcome: 'APPLIED', reason: null, balanceAfter: '700' });
    expect((await debitRow(op.operationId)).settled_at).toEqual(settledAt);
    expect(await h.balance(op.userId)).toBe('700');
    expect(await h.ledgerSum(op.userId)).toBe('700');
    expect(await isStored(final.operationId)).toBe(false);
    expect(h.gateway.requests.get(op.userId)).toBe(lookupsBefore);
  });

  it('make a later compensation lose: REJECTED / SETTLED, the money stays taken and no credit is written', async () => {
    const op = await appliedUnsettledDebit(h);
    await h.send([settle(op)]);
    expect((await h.waitResults(settle(op).operationId))[0]).toMatchObject({ outcome: 'APPLIED' });

    const undo = compensation(op);
    await h.send([undo, undo]);
    const answers = await h.waitResults(undo.operationId, 2);
    expect(answers.map((a) => [a.outcome, a.reason, a.balanceAfter])).toEqual([
      ['REJECTED', 'SETTLED', null],
      ['REJECTED', 'SETTLED', null],
    ]);
    expect(await h.balance(op.userId)).toBe('700');
    expect(await h.ledgerSum(op.userId)).toBe('700');
    expect(await reversals(op.operationId)).toBe(0);
    expect((await debitRow(op.operationId)).reversed_by).toBeNull();

    // The debit asked again still reads as applied: its payment completed.
    await h.send([op]);
    const [, replay] = await h.waitResults(op.operationId, 2);
    expect(replay).toMatchObject({ outcome: 'APPLIED', balanceAfter: '700' });
  });

  it('lose to an earlier compensation: REJECTED / REVERSED, and the debit stays unsettled', async () => {
    const op = await appliedUnsettledDebit(h);
    await h.send([compensation(op)]);
    expect((await h.waitResults(compensation(op).operationId))[0]).toMatchObject({
      outcome: 'APPLIED',
      balanceAfter: '1000',
    });

    await h.send([settle(op)]);
    expect((await h.waitResults(settle(op).operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'REVERSED',
      balanceAfter: null,
    });
    expect((await debitRow(op.operationId)).settled_at).toBeNull();
    expect(await h.balance(op.userId)).toBe('1000');
    expect(await h.ledgerSum(op.userId)).toBe('1000');
  });

  it('answer REVERSED for a debit fenced by a compensation that came before it', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await seed(h, user, 1000);
    const op = debit(user, 300);
    await h.send([compensation(op), settle(op)]);
    expect((await h.waitResults(compensation(op).operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'NOTHING_TO_REVERSE',
    });
    expect((await h.waitResults(settle(op).operationId))[0]).toMatchObject({ outcome: 'REJECTED', reason: 'REVERSED' });
    expect(await h.balance(user)).toBe('1000');
  });

  it('find nothing to settle for an unknown debit or a rejected one', async () => {
    const stranger = newUserId(); // unknown to the gateway too: a settle does not ask it
    const unknown = settle(debit(stranger, 300));
    await h.send([unknown]);
    expect((await h.waitResults(unknown.operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'NOTHING_TO_SETTLE',
      balanceAfter: null,
    });
    expect(h.gateway.requests.get(stranger)).toBeUndefined();
    expect(await isStored(unknown.operationId)).toBe(false);

    expect(await afterRejectedDebit(h, settle)).toMatchObject({ outcome: 'REJECTED', reason: 'NOTHING_TO_SETTLE' });
  });

  it('answer many settles sent together each with its own verdict', async () => {
    const [a, b, undone] = [
      await appliedUnsettledDebit(h),
      await appliedUnsettledDebit(h),
      await appliedUnsettledDebit(h),
    ];
    await h.send([compensation(undone)]);
    await h.waitResults(compensation(undone).operationId);
    const stranger = settle(debit(newUserId(), 300));
    await h.send([settle(a), settle(b), settle(undone), stranger]);
    const verdicts = await Promise.all(
      [a, b, undone].map(async (op) => (await h.waitResults(settle(op).operationId))[0]!),
    );
    expect(verdicts.map((v) => [v.outcome, v.reason, v.balanceAfter])).toEqual([
      ['APPLIED', null, '700'],
      ['APPLIED', null, '700'],
      ['REJECTED', 'REVERSED', null],
    ]);
    expect((await h.waitResults(stranger.operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'NOTHING_TO_SETTLE',
    });
  });

  it('let exactly one of a settle and a compensation sent back to back win, and the ledger agrees', async () => {
    const settleFirst = await appliedUnsettledDebit(h);
    const compensateFirst = await appliedUnsettledDebit(h);
    await h.send([
      settle(settleFirst),
      compensation(settleFirst),
      compensation(compensateFirst),
      settle(compensateFirst),
    ]);
    for (const op of [settleFirst, compensateFirst]) {
      const [settled] = await h.waitResults(settle(op).operationId);
      const [undone] = await h.waitResults(compensation(op).operationId);
      expectOneWinner(settled!, undone!);
      const won = settled!.outcome === 'APPLIED' ? 'settle' : 'compensation';
      expect(await h.balance(op.userId)).toBe(won === 'settle' ? '700' : '1000');
      expect(await h.ledgerSum(op.userId)).toBe(won === 'settle' ? '700' : '1000');
      expect(await reversals(op.operationId)).toBe(won === 'settle' ? 0 : 1);
    }
    // One payment's commands keep their order, so the first one sent wins.
    expect(h.results(settle(settleFirst).operationId)[0]!.outcome).toBe('APPLIED');
    expect(h.results(settle(compensateFirst).operationId)[0]!.outcome).toBe('REJECTED');
  });
});

describe("debits sent with settle (the paymaster's)", () => {
  let h: Harness;
  beforeAll(async () => (h = await startedHarness('ms_settle_on_apply')));
  afterAll(() => h.close());

  const settledAt = async (debitId: string): Promise<Date | null> => {
    const { rows } = await h.pool.query<{ settled_at: Date | null }>(
      'SELECT settled_at FROM money.processed_operations WHERE operation_id = $1',
      [debitId],
    );
    return rows[0]!.settled_at;
  };
  const fundedUser = async (balance: number): Promise<UserId> => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await seed(h, user, balance);
    return user;
  };

  it('are final once applied: answered settled, and a later compensation loses while a settle agrees', async () => {
    const op = debit(await fundedUser(1000), 300);
    await h.send([op]);
    expect((await h.waitResults(op.operationId))[0]).toMatchObject({
      kind: 'DEBIT',
      outcome: 'APPLIED',
      balanceAfter: '700',
      settled: true,
    });
    const at = await settledAt(op.operationId);
    expect(at).toBeInstanceOf(Date);

    await h.send([compensation(op)]);
    expect((await h.waitResults(compensation(op).operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'SETTLED',
    });
    await h.send([settle(op), op]);
    expect((await h.waitResults(settle(op).operationId))[0]).toMatchObject({ outcome: 'APPLIED', balanceAfter: '700' });
    expect((await h.waitResults(op.operationId, 2))[1]).toMatchObject({ outcome: 'APPLIED', settled: true });
    expect(await settledAt(op.operationId)).toEqual(at);
    expect(await h.balance(op.userId)).toBe('700');
    expect(await h.ledgerSum(op.userId)).toBe('700');
  });

  it('share one statement with debits that wait for a settle, and each keeps its own kind', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => fundedUser(1000)));
    const ops = users.map((u, i) => (i % 2 === 0 ? debit(u, 100) : unsettledDebit(u, 100)));
    await h.send(ops);
    const answers = await Promise.all(ops.map(async (op) => (await h.waitResults(op.operationId))[0]!));
    expect(answers.map((a) => [a.outcome, a.settled])).toEqual([
      ['APPLIED', true],
      ['APPLIED', undefined],
      ['APPLIED', true],
      ['APPLIED', undefined],
    ]);
    const final = await Promise.all(ops.map(async (op) => (await settledAt(op.operationId)) !== null));
    expect(final).toEqual([true, false, true, false]);
  });

  it('are not answered settled when refused', async () => {
    const op = debit(await fundedUser(10), 300);
    await h.send([op]);
    const [answer] = await h.waitResults(op.operationId);
    expect(answer).toMatchObject({ outcome: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
    expect(answer!.settled).toBeUndefined();
  });
});

type Verdict = Pick<MoneyOperationResult, 'outcome' | 'reason'>;

/** Either the settle won and the compensation was refused, or the other way round; never both applied. */
function expectOneWinner(settled: Verdict, undone: Verdict): void {
  const pair = [settled.outcome, settled.reason, undone.outcome, undone.reason];
  expect([
    ['APPLIED', null, 'REJECTED', 'SETTLED'],
    ['REJECTED', 'REVERSED', 'APPLIED', null],
  ]).toContainEqual(pair);
}

describe('a settle and a compensation of one debit at the same moment, on the ledger itself', () => {
  it('let exactly one win per debit (the debit row lock), and the balance and ledger agree', async () => {
    const { ledger, user, database } = await ledgerWithOneAccount('ms_settle_race');
    try {
      const debits = Array.from({ length: 40 }, () => {
        const id = newPaymentId();
        return {
          operationId: asOperationId(id),
          kind: 'DEBIT' as const,
          paymentId: asPaymentId(id),
          userId: user,
          currency: 'USD' as const,
          amount: 10,
          settle: false,
        };
      });
      for (const d of debits) expect(await ledger.debit(d, 0)).toMatchObject({ outcome: 'APPLIED' });

      const undo = (d: (typeof debits)[number]): ReturnType<Ledger['compensate']> =>
        ledger.compensate({ ...d, operationId: reversalId(d.paymentId), kind: 'CREDIT' }, d.operationId);
      const settleOne = async (d: (typeof debits)[number]) =>
        (await ledger.settle([d.operationId])).get(d.operationId)!;
      const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
      // Both of a pair are in flight together. Which one is issued a tick ahead alternates, so both
      // orders meet at the lock (issued together, the compensation's transaction always gets a
      // pooled connection first).
      const pairs = await Promise.all(
        debits.map(async (d, i) => {
          if (i % 2 === 0) {
            const final = settleOne(d);
            await tick();
            return Promise.all([final, undo(d)]);
          }
          const undone = undo(d);
          await tick();
          return Promise.all([settleOne(d), undone]);
        }),
      );
      let settled = 0;
      for (const [s, c] of pairs) {
        expectOneWinner(s, c);
        if (s.outcome === 'APPLIED') settled++;
      }
      const { rows } = await database.pool.query(
        `SELECT a.balance::text AS balance,
           (SELECT sum(amount)::text FROM money.ledger_entries WHERE user_id = $1) AS ledger,
           (SELECT count(*)::int FROM money.processed_operations WHERE kind = 'DEBIT' AND settled_at IS NOT NULL) AS settled,
           (SELECT count(*)::int FROM money.processed_operations WHERE kind = 'DEBIT' AND settled_at IS NOT NULL AND reversed_by IS NOT NULL) AS both
         FROM money.accounts a WHERE user_id = $1`,
        [user],
      );
      expect(settled).toBeGreaterThan(0);
      expect(settled).toBeLessThan(40);
      const expected = String(1000 - 400 + 10 * (40 - settled));
      expect(rows[0]).toEqual({ balance: expected, ledger: expected, settled, both: 0 });
    } finally {
      await database.close();
    }
  });
});
