import { migrateGatewayDb } from '../../gateway/db/migrate';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../common/project-root';
import { reconcile, type ReconcileReport } from '../../tools/reconcile/checks';
import { compensation, createHarness, debit, newUserId, seed, unsettledDebit, type Harness } from './harness';
import type { MoneyOperation } from '../../common/kafka/contracts';
import { depositCommand } from '../../common/kafka/messages';
import { asOperationId, asUserId } from '../../common/ids';

const run = promisify(execFile);

describe('npm run reconcile', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('ms_recon');
    await migrateGatewayDb(h.databaseUrl);
    await h.start();
  });
  afterAll(() => h.close());

  const setStatus = (id: string, status: string): Promise<unknown> =>
    h.pool.query('UPDATE gateway.payments SET status = $2 WHERE id = $1', [id, status]);
  /** A deposit's row as the gateway writes it before sending the command. */
  const askedDeposit = (operationId: string, user: string, amount: number, currency: string, outcome: string | null) =>
    h.pool.query(
      `INSERT INTO gateway.deposits (operation_id, user_id, requested_by, channel, idempotency_key, amount, currency, outcome)
       VALUES ($1, $2, 'olga', 'OPERATOR', $1, $3, $4, $5)`,
      [operationId, user, amount, currency, outcome],
    );
  /** A payment of no ledger's concern, created `minutesAgo`. */
  const paymentSince = async (user: string, status: string, minutesAgo: number): Promise<string> => {
    const { rows } = await h.pool.query<{ id: string }>(
      `INSERT INTO gateway.payments (id, user_id, amount, currency, status, created_at)
       VALUES (gen_random_uuid(), $1, 1, 'USD', $2, now() - make_interval(mins => $3)) RETURNING id::text`,
      [user, status, minutesAgo],
    );
    return rows[0]!.id;
  };

  it('passes on a consistent history and catches every planted inconsistency', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await h.pool.query('INSERT INTO gateway.users (id, user_name) VALUES ($1, $2)', [user, `u${user}`]);
    await seed(h, user, 500);
    const [completed, rejected, reversed, inFlight] = [
      debit(user, 300),
      debit(user, 300),
      unsettledDebit(user, 100), // an older paymaster's, which a compensation can still reverse
      debit(user, 50),
    ] as Array<MoneyOperation & { kind: 'DEBIT' }>;
    for (const p of [completed, rejected, reversed, inFlight]) {
      await h.pool.query(
        `INSERT INTO gateway.payments (id, user_id, amount, currency, status) VALUES ($1, $2, $3, 'USD', 'PROCESSING')`,
        [p!.paymentId, user, p!.amount],
      );
    }
    // One after the other: distinct payments run concurrently, and the balance decides which fit.
    for (const op of [completed!, rejected!, reversed!, compensation(reversed!), inFlight!]) {
      await h.send([op]);
      await h.waitResults(op.operationId);
    }
    expect(h.results(rejected!.operationId)[0]).toMatchObject({ reason: 'INSUFFICIENT_FUNDS' });
    // A deposit asked for through the gateway (its row first, as the gateway writes it) and credited.
    const deposit = depositCommand(asOperationId('deposit:clean'), {
      userId: asUserId(user),
      amount: 80,
      currency: 'EUR',
    });
    await askedDeposit(deposit.operationId, user, 80, 'EUR', 'APPLIED');
    await h.send([deposit]);
    await h.waitResults(deposit.operationId);
    await setStatus(completed!.paymentId, 'COMPLETED');
    await setStatus(rejected!.paymentId, 'REJECTED');
    await setStatus(reversed!.paymentId, 'ERROR');

    // Unfinished, but for less than the 15 minutes after which a payment counts as lost.
    await paymentSince(user, 'CREATED', 10);
    const clean = await reconcile(h.pool, h.pool);
    expect(clean).toMatchObject({ ok: true, violations: [], inFlightDebited: [inFlight!.paymentId] });
    expect(clean.stats).toMatchObject({
      completedPayments: 1,
      paymentsWithNetDebit: 2,
      accounts: 2,
      unfinishedPayments: 0,
    });

    // Plant one of each kind of damage.
    await setStatus(rejected!.paymentId, 'COMPLETED');
    await setStatus(inFlight!.paymentId, 'ERROR');
    await h.pool.query(`UPDATE money.accounts SET balance = balance + 5 WHERE user_id = $1 AND currency = 'USD'`, [
      user,
    ]);
    await h.pool.query(`UPDATE money.processed_operations SET settled_at = NULL WHERE operation_id = $1`, [
      completed!.operationId,
    ]);
    const other = newUserId();
    await h.pool.query('ALTER TABLE money.accounts DROP CONSTRAINT accounts_balance_non_negative');
    await h.pool.query(`INSERT INTO money.accounts (user_id, currency, balance) VALUES ($1, 'EUR', -7)`, [other]);
    await h.pool.query(
      `INSERT INTO money.ledger_entries (operation_id, kind, purpose, user_id, currency, amount, balance_after) VALUES ('planted', 'DEBIT', 'PAYMENT', $1, 'EUR', -7, -7)`,
      [other],
    );

    // The ledger's own rules and money coming in, on a third account whose entries add up.
    const third = newUserId();
    await h.pool.query('INSERT INTO gateway.users (id, user_name) VALUES ($1, $2)', [third, `u${third}`]);
    await h.pool.query(`INSERT INTO money.accounts (user_id, currency, balance) VALUES ($1, 'EUR', 27)`, [third]);
    const entry = (operationId: string, purpose: string, amount: number) =>
      h.pool.query(
        `INSERT INTO money.ledger_entries (operation_id, kind, purpose, user_id, currency, amount, balance_after)
         VALUES ($1, 'CREDIT', $2, $3, 'EUR', $4, 0)`,
        [operationId, purpose, third, amount],
      );
    await entry('planted-compensation', 'COMPENSATION', 9); // reverses nothing
    await entry('deposit:never-asked', 'DEPOSIT', 5);
    await entry('deposit:other-amount', 'DEPOSIT', 6);
    await askedDeposit('deposit:other-amount', third, 60, 'EUR', 'APPLIED');
    await askedDeposit('deposit:lost', third, 70, 'EUR', 'APPLIED');
    await entry('deposit:answered-rejected', 'DEPOSIT', 4);
    await askedDeposit('deposit:answered-rejected', third, 4, 'EUR', 'REJECTED');
    await entry('planted-foreign', 'PAYMENT', 3); // a credit for a payment: nothing writes that
    await h.pool.query(`UPDATE money.processed_operations SET reversed_by = 'planted' WHERE operation_id = $1`, [
      inFlight!.operationId,
    ]);
    await h.pool.query(`UPDATE gateway.payments SET currency = 'EUR' WHERE id = $1`, [completed!.paymentId]);

    const lost = await paymentSince(user, 'PROCESSING', 60);
    await paymentSince(user, 'REJECTED', 60); // old, but finished

    const { stdout, code } = await run(
      process.execPath,
      [path.join(PROJECT_ROOT, 'dist', 'tools', 'reconcile', 'main.js'), '--json'],
      {
        env: { ...process.env, DATABASE_URL: h.databaseUrl, LOG_LEVEL: 'silent' },
      },
    ).then(
      (r) => ({ ...r, code: 0 }),
      (e: { stdout: string; code: number }) => e,
    );
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ReconcileReport;
    expect(report.ok).toBe(false);
    expect(report.violations.map((v) => v.kind).sort()).toEqual([
      'BAD_COMPENSATION',
      'COMPLETED_WITHOUT_DEBIT',
      'COMPLETED_WITH_UNSETTLED_DEBIT',
      'DEBIT_ACCOUNT_MISMATCH',
      'DEBIT_WITHOUT_COMPLETED_PAYMENT',
      'DEBIT_WITHOUT_PAYMENT',
      'DEPOSIT_MISMATCH',
      'DEPOSIT_MISMATCH',
      'DEPOSIT_NOT_CREDITED',
      'DEPOSIT_WITHOUT_REQUEST',
      'FOREIGN_ENTRY',
      'LEDGER_BALANCE_MISMATCH',
      'NEGATIVE_BALANCE',
      'PAYMENT_NOT_FINISHED',
      'SETTLED_DEBIT_REVERSED',
    ]);
    expect(report.stats.unfinishedPayments).toBe(1);
    expect(report.violations).toEqual(
      expect.arrayContaining([
        { kind: 'COMPLETED_WITHOUT_DEBIT', detail: { paymentId: rejected!.paymentId, amount: 300 } },
        {
          kind: 'COMPLETED_WITH_UNSETTLED_DEBIT',
          detail: { paymentId: completed!.paymentId, debit: completed!.operationId },
        },
        {
          kind: 'DEBIT_WITHOUT_COMPLETED_PAYMENT',
          detail: { paymentId: inFlight!.paymentId, status: 'ERROR', debits: 1 },
        },
        {
          kind: 'LEDGER_BALANCE_MISMATCH',
          detail: { user_id: user, currency: 'USD', balance: '155', ledger_sum: '150' },
        },
        { kind: 'NEGATIVE_BALANCE', detail: { user_id: other, currency: 'EUR', balance: '-7' } },
        {
          kind: 'DEBIT_ACCOUNT_MISMATCH',
          detail: { paymentId: completed!.paymentId, payer: `${user} EUR`, debited: `${user} USD` },
        },
        {
          kind: 'DEBIT_WITHOUT_PAYMENT',
          detail: { operation_id: 'planted', user_id: other, currency: 'EUR', amount: '-7' },
        },
        {
          kind: 'BAD_COMPENSATION',
          detail: { operation_id: 'planted-compensation', reverses: null, amount: '9', debit_amount: null },
        },
        {
          kind: 'SETTLED_DEBIT_REVERSED',
          detail: { operation_id: inFlight!.operationId, payment_id: inFlight!.paymentId, reversed_by: 'planted' },
        },
        {
          kind: 'DEPOSIT_WITHOUT_REQUEST',
          detail: { operation_id: 'deposit:never-asked', user_id: third, currency: 'EUR', amount: '5' },
        },
        {
          kind: 'DEPOSIT_MISMATCH',
          detail: {
            operationId: 'deposit:other-amount',
            requestedUser: third,
            creditedUser: third,
            requested: '60 EUR',
            credited: '6 EUR',
            outcome: 'APPLIED',
          },
        },
        {
          kind: 'DEPOSIT_MISMATCH',
          detail: {
            operationId: 'deposit:answered-rejected',
            requestedUser: third,
            creditedUser: third,
            requested: '4 EUR',
            credited: '4 EUR',
            outcome: 'REJECTED',
          },
        },
        {
          kind: 'FOREIGN_ENTRY',
          detail: { operation_id: 'planted-foreign', kind: 'CREDIT', purpose: 'PAYMENT', amount: '3' },
        },
        {
          kind: 'DEPOSIT_NOT_CREDITED',
          detail: { operation_id: 'deposit:lost', user_id: third, currency: 'EUR', amount: '70', outcome: 'APPLIED' },
        },
        {
          kind: 'PAYMENT_NOT_FINISHED',
          detail: { paymentId: lost, status: 'PROCESSING', createdAt: expect.any(String) as string },
        },
      ]),
    );
  });

  it('takes the unfinished threshold from RECONCILE_UNFINISHED_AFTER_SECONDS, and refuses a bad one', async () => {
    const reconcileWith = (value: string) =>
      run(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'tools', 'reconcile', 'main.js'), '--json'], {
        env: {
          ...process.env,
          DATABASE_URL: h.databaseUrl,
          LOG_LEVEL: 'silent',
          RECONCILE_UNFINISHED_AFTER_SECONDS: value,
        },
      }).then(
        (r) => ({ ...r, code: 0 }),
        (e: { stdout: string; code: number }) => e,
      );
    const lenient = await reconcileWith('86400');
    expect((JSON.parse(lenient.stdout) as ReconcileReport).stats.unfinishedPayments).toBe(0);
    const strict = await reconcileWith('300'); // the payment left CREATED 10 minutes ago, and the lost one
    expect((JSON.parse(strict.stdout) as ReconcileReport).stats.unfinishedPayments).toBe(2);
    for (const bad of ['0', '-5', '1.5', 'soon', '1e400', '9'.repeat(30)])
      expect((await reconcileWith(bad)).code).toBe(2);
  });
});
