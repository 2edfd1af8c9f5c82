import { CreatePayment, Deposit, MyAccounts } from '../../client/operations';
import { eventually } from '../support/infra';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/**
 * The paymaster's deadline made so short that money-storage's answer nearly always comes too
 * late: payments end ERROR, every applied debit is reversed, and the books still balance.
 */
let e2e: E2ESystem;
beforeAll(async () => {
  e2e = await startE2E('compensation', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '1', PAYMASTER_DELAY_MAX_MS: '5', PAYMASTER_RESULT_DEADLINE_MS: '1' },
  });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

it('reverses late debits: ERROR payments leave no money taken, and reconcile passes', async () => {
  const frank = e2e.client('frank');
  await frank.data(Deposit, { amount: 100_000, currency: 'USD', idempotencyKey: 'seed' });
  await eventually(
    'the deposit',
    async () => ((await frank.data(MyAccounts)).myAccounts[0]?.balance === '100000' ? true : undefined),
    30_000,
  );
  const ids: string[] = [];
  for (let i = 0; i < 30; i++)
    ids.push((await frank.data(CreatePayment, { input: { amount: 100, currency: 'USD' } })).createPayment.id);
  const counts = await awaitTerminal(e2e.sql, ids, 60_000);
  expect(counts.ERROR ?? 0).toBeGreaterThan(0);
  // Every compensation is applied (or finds nothing to reverse) before the books are read.
  await eventually(
    'the balance to reflect only completed payments',
    async () => {
      const balance = Number((await frank.data(MyAccounts)).myAccounts[0]?.balance);
      return balance === 100_000 - 100 * (counts.COMPLETED ?? 0) ? true : undefined;
    },
    30_000,
  );
  const { code, report } = await e2e.reconcile();
  expect(report).toMatchObject({ ok: true });
  expect(code).toBe(0);
});
