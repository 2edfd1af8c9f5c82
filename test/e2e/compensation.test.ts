import { CreatePayment, Deposit, MyAccounts } from '../../client/operations';
import { eventually } from '../support/infra';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/**
 * The paymaster's deadline made so short that money-storage's answer nearly always comes too
 * late, so every payment is compensated. Its debit, applied before the compensation on the same
 * partition, is final once applied: each compensation is refused SETTLED and the payment completes,
 * its money taken exactly once, and the books balance.
 */
let e2e: E2ESystem;
beforeAll(async () => {
  e2e = await startE2E('compensation', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '1', PAYMASTER_DELAY_MAX_MS: '5', PAYMASTER_RESULT_DEADLINE_MS: '1' },
  });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

it('completes payments whose deadline passed on a debit already final: money taken once, nothing reversed, reconcile passes', async () => {
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
  expect(await awaitTerminal(e2e.sql, ids, 60_000)).toEqual({ COMPLETED: 30 });
  const { rows } = await e2e.sql.query<{ purpose: string; outcome: string; reason: string | null; n: number }>(
    `SELECT coalesce(l.purpose, '-') AS purpose, p.outcome, p.reason, count(*)::int AS n
       FROM money.processed_operations p LEFT JOIN money.ledger_entries l USING (operation_id)
      WHERE p.payment_id = ANY($1::uuid[]) GROUP BY 1, 2, 3 ORDER BY 1`,
    [ids],
  );
  // Thirty debits and, for every deadline that fired, a compensation refused without a ledger entry.
  expect(rows.find((r) => r.purpose === 'PAYMENT')).toMatchObject({ outcome: 'APPLIED', n: 30 });
  expect(rows.filter((r) => r.purpose !== 'PAYMENT').every((r) => r.purpose === '-' && r.reason === 'SETTLED')).toBe(
    true,
  );
  expect(rows.filter((r) => r.purpose !== 'PAYMENT').reduce((n, r) => n + r.n, 0)).toBeGreaterThan(0);
  expect((await frank.data(MyAccounts)).myAccounts[0]?.balance).toBe(String(100_000 - 100 * 30));
  const { code, report } = await e2e.reconcile();
  expect(report).toMatchObject({ ok: true });
  expect(code).toBe(0);
});
