import { eventually, testKafka } from '../support/infra';
import { createHarness, debit, newUserId, seed, type Harness } from './harness';

describe('a crash between the DB commit and the offset commit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('ms_crash');
  });
  afterAll(() => h.close());

  it('re-applies nothing and re-publishes the same outcome when another process takes over', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await seed(h, user, 1000);
    let crashes = 0;
    // The first process dies every time right after publishing, before committing its offset.
    const doomed = await h.start(
      {},
      {
        beforeCommit: () => {
          crashes++;
          return Promise.reject(new Error('simulated crash before the offset commit'));
        },
      },
    );
    const op = debit(user, 400);
    await h.send([op]);
    const [first] = await h.waitResults(op.operationId);
    expect(first).toMatchObject({ outcome: 'APPLIED', balanceAfter: '600' });
    await doomed.stop();
    expect(crashes).toBeGreaterThanOrEqual(1);
    const publishedByDoomed = h.results(op.operationId).length;

    await h.start();
    const again = await h.waitResults(op.operationId, publishedByDoomed + 1, 30_000);
    for (const r of again)
      expect(r).toMatchObject({ outcome: 'APPLIED', reason: null, balanceAfter: '600', paymentId: op.paymentId });
    expect(await h.balance(user)).toBe('600');
    const { rows } = await h.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM money.ledger_entries WHERE operation_id = $1',
      [op.operationId],
    );
    expect(rows[0]?.n).toBe(1);

    // And this time the offset is committed (by the paced commit): the group's position passes the command.
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const committedTotal = async (): Promise<number> => {
        const committed = await admin.fetchOffsets({
          groupId: `${h.names.moneyOperations.replace(/money-operations$/, '')}money-storage`,
          topics: [h.names.moneyOperations],
        });
        return committed[0]!.partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
      };
      await eventually('the offset commit', async () => ((await committedTotal()) > 0 ? true : undefined));
      expect(await committedTotal()).toBe(1);
    } finally {
      await admin.disconnect();
    }
  });
});
