import { Deposit, MyAccounts } from '../../client/operations';
import type { ServiceName } from '../../infra/stack';
import { awaitCommittedToEnd, eventually } from '../support/infra';
import { PaymentLoad } from './load';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/**
 * Faults under load, on a broker of the suite's own. After each: every
 * acknowledged payment reaches a terminal status and `reconcile` finds the invariants intact.
 */
jest.setTimeout(300_000);

const USERS = Array.from({ length: 20 }, (_, i) => `load-user-${i}`);
let e2e: E2ESystem;

beforeAll(async () => {
  e2e = await startE2E('faults', {
    ownKafka: true,
    env: {
      PAYMASTER_DELAY_MIN_MS: '300',
      PAYMASTER_DELAY_MAX_MS: '1500',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      // Shorter than the outages below, so deadlines fire while payments are conducted twice
      // (outbox duplicates, redeliveries): settles and compensations race, and reconcile checks
      // that the statuses still agree with the ledger.
      PAYMASTER_RESULT_DEADLINE_MS: '8000',
      PAYMASTER_RESEND_INTERVAL_MS: '5000',
      PUBLISH_TIMEOUT_MS: '500',
      OUTBOX_RELAY_INTERVAL_MS: '200',
      RATE_LIMIT_PER_MINUTE: '0',
      SELF_DEPOSIT_MAX: '1000000000',
      KAFKA_CONSUMER_STALL_MS: '65000',
    },
  });
  await Promise.all(USERS.map((u) => e2e.client(u).data(Deposit, { amount: 1_000_000_000, currency: 'EUR', idempotencyKey: 'seed' })));
  await eventually('every deposit', async () => {
    const balances = await Promise.all(USERS.map(async (u) => (await e2e.client(u).data(MyAccounts)).myAccounts.length));
    return balances.every((n) => n === 1) ? true : undefined;
  }, 60_000);
});
afterAll(() => e2e?.stop(), 120_000);

const clients = () => USERS.map((u) => e2e.client(u));

async function inFlight(ids: string[]): Promise<number> {
  const { rows } = await e2e.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM gateway.payments WHERE id = ANY($1::uuid[]) AND status IN ('NEW','CREATED','PROCESSING')`, [ids]);
  return rows[0]!.n;
}

/**
 * A payment is terminal once its status is out, but a second conducting of it (a duplicate) may
 * still have commands queued for money-storage: the books are only comparable once it has read everything.
 */
const moneyStorageCaughtUp = (): Promise<void> =>
  awaitCommittedToEnd('money-storage', 'money-operations', 180_000, e2e.system.infra.kafkaBrokers.split(','));

async function settle(scenario: string, load: PaymentLoad, atFault: number): Promise<void> {
  const counts = await awaitTerminal(e2e.sql, load.acknowledged, 240_000);
  await moneyStorageCaughtUp();
  const { code, report } = await e2e.reconcile();
  process.stdout.write(
    `${JSON.stringify({ scenario, acknowledged: load.acknowledged.length, answered: load.answered, unacknowledged: load.failed, inFlightAtFault: atFault, final: counts, reconcileOk: report.ok })}\n`,
  );
  if (!report.ok) {
    process.stdout.write(`reconcile report: ${JSON.stringify(report).slice(0, 1500)}\n`);
    const id = (report as { violations?: Array<{ detail?: { paymentId?: string } }> }).violations?.[0]?.detail?.paymentId;
    if (id) {
      const ledger = await e2e.sql.query('SELECT * FROM money.ledger_entries WHERE payment_id = $1', [id]);
      const ops = await e2e.sql.query('SELECT * FROM money.processed_operations WHERE operation_id LIKE $1', [`${id}%`]);
      const pay = await e2e.sql.query('SELECT status, reason FROM gateway.payments WHERE id = $1', [id]);
      process.stdout.write(`DIAG ${JSON.stringify({ pay: pay.rows, ledger: ledger.rows, ops: ops.rows })}\n`);
    }
  }
  expect(report.ok).toBe(true);
  expect(code).toBe(0);
}

async function crashUnderLoad(scenario: string, service: ServiceName, faultWhen: (ids: string[]) => boolean | Promise<boolean>): Promise<void> {
  const load = new PaymentLoad(clients(), 16, 600).start();
  await eventually(`load to build up for ${scenario}`, async () => ((await faultWhen(load.acknowledged)) ? true : undefined), 60_000);
  const atFault = await inFlight(load.acknowledged);
  await e2e.system.killService(service);
  await load.finished();
  await e2e.system.startService(service);
  await settle(scenario, load, atFault);
}

describe('faults under load', () => {
  it('SIGKILL of the paymaster with hundreds of payments in flight loses nothing', async () => {
    await crashUnderLoad('paymaster SIGKILL', 'paymaster', async (ids) => ids.length >= 300 && (await inFlight(ids)) >= 100);
  });

  it('SIGKILL of money-storage mid-batch loses nothing and debits nothing twice', async () => {
    await crashUnderLoad('money-storage SIGKILL', 'money-storage', async (ids) => {
      if (ids.length < 300) return false;
      const { rows } = await e2e.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM gateway.payments WHERE id = ANY($1::uuid[]) AND status = 'PROCESSING'`, [ids]);
      return rows[0]!.n >= 50;
    });
  });

  it('a Kafka outage of about 12 s: createPayment keeps answering (NEW), nothing is lost', async () => {
    const load = new PaymentLoad(clients(), 4).start();
    await eventually('some payments before the outage', () => (load.acknowledged.length >= 50 ? true : undefined));
    const atFault = await inFlight(load.acknowledged);
    await e2e.system.infra.stopBroker();
    const during = load.acknowledged.length;
    const outageEnds = Date.now() + 12_000;
    await eventually('the outage to last its 12 s', () => (Date.now() >= outageEnds ? true : undefined), 30_000);
    expect(load.acknowledged.length).toBeGreaterThan(during); // still answering
    expect(load.answered.NEW ?? 0).toBeGreaterThan(0);
    await e2e.system.infra.startBroker();
    const afterOutage = load.acknowledged.length;
    await eventually('payments created after the outage', () => (load.acknowledged.length >= afterOutage + 50 ? true : undefined), 120_000);
    await load.stop();
    await settle('kafka outage', load, atFault);
  });

  it('SIGKILL of the gateway during load: every acknowledged payment still ends, and the books agree', async () => {
    await crashUnderLoad('gateway SIGKILL', 'gateway', (ids) => ids.length >= 200);
  });
});
