import {
  afterRejectedDebit,
  appliedUnsettledDebit,
  compensation,
  startedHarness,
  debit,
  newUserId,
  seed,
  type Harness,
} from './harness';
import type { MoneyOperation } from '../../common/kafka/contracts';

describe('compensations', () => {
  let h: Harness;
  beforeAll(async () => (h = await startedHarness('ms_comp')));
  afterAll(() => h.close());

  it('reverse an applied debit once, even for a user blocked since; the debit re-sent then answers FAILED/REVERSED', async () => {
    const op = await appliedUnsettledDebit(h);
    const user = op.userId;
    h.gateway.users.set(user, 'BLOCKED');
    const undo = compensation(op);
    await h.send([undo, undo]);
    const answers = await h.waitResults(undo.operationId, 2);
    expect(answers.map((a) => [a.kind, a.outcome, a.balanceAfter])).toEqual([
      ['CREDIT', 'APPLIED', '1000'],
      ['CREDIT', 'APPLIED', '1000'],
    ]);
    expect(await h.balance(user)).toBe('1000');
    expect(await h.ledgerSum(user)).toBe('1000');

    await h.send([op]);
    const [, replay] = await h.waitResults(op.operationId, 2);
    expect(replay).toMatchObject({ outcome: 'FAILED', reason: 'REVERSED', balanceAfter: null });
    expect(await h.balance(user)).toBe('1000');

    // A second, different compensation of the same debit finds nothing left to reverse.
    const other = { ...undo, operationId: `${undo.operationId}:again` } as MoneyOperation;
    await h.send([other]);
    expect((await h.waitResults(other.operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'NOTHING_TO_REVERSE',
    });
    expect(await h.balance(user)).toBe('1000');
  });

  it('find nothing to reverse for a rejected debit', async () => {
    expect(await afterRejectedDebit(h, compensation)).toMatchObject({
      outcome: 'REJECTED',
      reason: 'NOTHING_TO_REVERSE',
    });
  });

  it('fence a debit that had not arrived yet: when it comes late it moves nothing', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await seed(h, user, 1000);
    const op = debit(user, 300);
    await h.send([compensation(op)]);
    expect((await h.waitResults(compensation(op).operationId))[0]).toMatchObject({
      outcome: 'REJECTED',
      reason: 'NOTHING_TO_REVERSE',
    });
    await h.send([op]);
    expect((await h.waitResults(op.operationId))[0]).toMatchObject({ outcome: 'FAILED', reason: 'REVERSED' });
    expect(await h.balance(user)).toBe('1000');
  });
});
