import { CreatePayment, CreditAccount, GetCredit, MyAccounts, MyLedger } from '../../client/operations';
import { eventually } from '../support/infra';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/** Money enters by an operator's credit, pays a payment, and the user can read both in their ledger. */
let e2e: E2ESystem;
beforeAll(async () => {
  e2e = await startE2E('ledger', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '5', PAYMASTER_DELAY_MAX_MS: '20', SELF_DEPOSIT_MAX: '0' },
  });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

it('shows an operator credit and a completed payment in myLedger, newest first, page by page', async () => {
  const alice = e2e.client('alice');
  await alice.data(MyLedger, {}); // alice signs in once, so the operator can name her
  const { creditAccount } = await e2e
    .operator('olga')
    .data(CreditAccount, { userName: 'alice', amount: 5000, currency: 'EUR', idempotencyKey: 'seed-alice' });
  await eventually(
    'the credit on alice’s account',
    async () => ((await alice.data(MyAccounts)).myAccounts[0]?.balance === '5000' ? true : undefined),
    30_000,
  );
  const outcome = () => alice.data(GetCredit, { operationId: creditAccount.operationId });
  expect(
    (
      await eventually(
        'the credit’s outcome',
        async () => ((await outcome()).credit?.status === 'APPLIED' ? outcome() : undefined),
        30_000,
      )
    ).credit,
  ).toMatchObject({
    userName: 'alice',
    requestedBy: null,
    channel: 'OPERATOR',
    amount: 5000,
    reason: null,
  });
  const { createPayment } = await alice.data(CreatePayment, { input: { amount: 1500, currency: 'EUR' } });
  expect(await awaitTerminal(e2e.sql, [createPayment.id], 30_000)).toEqual({ COMPLETED: 1 });

  const { myLedger } = await alice.data(MyLedger, { first: 10 });
  expect(myLedger.edges.map((e) => e.node)).toEqual([
    expect.objectContaining({
      kind: 'DEBIT',
      purpose: 'PAYMENT',
      amount: '-1500',
      currency: 'EUR',
      paymentId: createPayment.id,
      balanceAfter: '3500',
    }),
    expect.objectContaining({
      kind: 'CREDIT',
      purpose: 'DEPOSIT',
      amount: '5000',
      operationId: creditAccount.operationId,
      paymentId: null,
      balanceAfter: '5000',
    }),
  ]);

  const page1 = (await alice.data(MyLedger, { first: 1 })).myLedger;
  expect(page1.pageInfo.hasNextPage).toBe(true);
  const page2 = (await alice.data(MyLedger, { first: 1, after: page1.pageInfo.endCursor })).myLedger;
  expect(page2.edges.map((e) => e.node.purpose)).toEqual(['DEPOSIT']);
  expect(page2.pageInfo.hasNextPage).toBe(false);
  expect((await alice.request(MyLedger, { after: 'bm90LWEtY3Vyc29y' })).errors?.[0]?.extensions?.code).toBe(
    'BAD_USER_INPUT',
  );
  expect((await e2e.client('bob').data(MyLedger, {})).myLedger.edges).toEqual([]);
});
