import { awaitCommittedToEnd } from '../support/infra';
import type { PaymentLoad } from './load';
import { awaitTerminal, type E2ESystem } from './system';

/** How many of these payments are not terminal yet. */
export async function inFlight(e2e: E2ESystem, ids: string[]): Promise<number> {
  const { rows } = await e2e.sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM gateway.payments WHERE id = ANY($1::uuid[]) AND status IN ('NEW','CREATED','PROCESSING')`,
    [ids],
  );
  return rows[0]!.n;
}

/** For a failed run's log: what the database and the services' warnings say about a few stuck payments. */
async function describeStuck(e2e: E2ESystem, ids: string[]): Promise<void> {
  const { rows } = await e2e.sql.query<{ id: string; status: string; updated_at: Date }>(
    `SELECT id, status, updated_at FROM gateway.payments
      WHERE id = ANY($1::uuid[]) AND status IN ('NEW','CREATED','PROCESSING') LIMIT 3`,
    [ids],
  );
  for (const payment of rows) {
    const ops = await e2e.sql.query(
      'SELECT operation_id, kind, outcome, reason, settled_at, reversed_by FROM money.processed_operations WHERE payment_id = $1',
      [payment.id],
    );
    const lines = e2e.linesAbout(payment.id).slice(-20);
    process.stdout.write(`STUCK ${JSON.stringify({ payment, operations: ops.rows, lines })}\n`);
  }
}

/**
 * A payment is terminal once its status is out, but a second conducting of it (a duplicate) may
 * still have commands queued for money-storage: the books are only comparable once it has read everything.
 */
const moneyStorageCaughtUp = (e2e: E2ESystem): Promise<void> =>
  awaitCommittedToEnd('money-storage', 'money-operations', 180_000, e2e.system.infra.kafkaBrokers.split(','));

/**
 * The checks after a fault: every acknowledged payment reaches a terminal status and `reconcile`
 * finds the invariants intact. Prints what it saw as one JSON line, and what a violation involves.
 */
export async function settle(
  e2e: E2ESystem,
  scenario: string,
  load: PaymentLoad,
  atFault: number,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const startedAt = Date.now();
  const counts = await awaitTerminal(e2e.sql, load.acknowledged, 240_000).catch(async (e: unknown) => {
    await describeStuck(e2e, load.acknowledged);
    throw e;
  });
  await moneyStorageCaughtUp(e2e);
  const { code, report } = await e2e.reconcile();
  process.stdout.write(
    `${JSON.stringify({ scenario, acknowledged: load.acknowledged.length, answered: load.answered, unacknowledged: load.failed, refused: load.refused, inFlightAtFault: atFault, final: counts, settledInMs: Date.now() - startedAt, reconcileOk: report.ok, ...extra })}\n`,
  );
  if (!report.ok) {
    process.stdout.write(`reconcile report: ${JSON.stringify(report).slice(0, 1500)}\n`);
    const id = (report as { violations?: Array<{ detail?: { paymentId?: string } }> }).violations?.[0]?.detail
      ?.paymentId;
    if (id) {
      const ledger = await e2e.sql.query('SELECT * FROM money.ledger_entries WHERE payment_id = $1', [id]);
      const ops = await e2e.sql.query('SELECT * FROM money.processed_operations WHERE operation_id LIKE $1', [
        `${id}%`,
      ]);
      const pay = await e2e.sql.query('SELECT status, reason FROM gateway.payments WHERE id = $1', [id]);
      process.stdout.write(`DIAG ${JSON.stringify({ pay: pay.rows, ledger: ledger.rows, ops: ops.rows })}\n`);
    }
  }
  expect(report.ok).toBe(true);
  expect(code).toBe(0);
}
