import { DIGEST_WINDOW_MS } from '../../common/log-digest';
import type { ServiceName } from '../../infra/stack';
import { eventually } from '../support/infra';
import { fundUsers, PaymentLoad } from './load';
import { inFlight, settle } from './settle';
import { startE2E, type E2ESystem } from './system';

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
      // (outbox duplicates, redeliveries): debits final once applied and compensations race, and reconcile checks
      // that the statuses still agree with the ledger.
      PAYMASTER_RESULT_DEADLINE_MS: '8000',
      PAYMASTER_RESEND_INTERVAL_MS: '5000',
      PUBLISH_TIMEOUT_MS: '500',
      OUTBOX_RELAY_INTERVAL_MS: '200',
      RATE_LIMIT_PER_MINUTE: '0',
      SELF_DEPOSIT_MAX: '1000000000',
      KAFKA_CONSUMER_STALL_MS: '65000',
      KAFKA_START_WAIT_MS: '3000',
    },
  });
  await fundUsers(e2e, USERS);
});
afterAll(() => e2e?.stop(), 120_000);

const clients = () => USERS.map((u) => e2e.client(u));

/** With the broker down, createPayment goes on answering: NEW. If not, says what the calls got and what the gateway logged. */
async function outageOf12s(load: PaymentLoad): Promise<void> {
  const before = load.acknowledged.length;
  const outageEnds = Date.now() + 12_000;
  await eventually('the outage to last its 12 s', () => (Date.now() >= outageEnds ? true : undefined), 30_000);
  const outcome = {
    acknowledged: load.acknowledged.length > before,
    refused: load.refused,
    gatewayLogged: e2e
      .linesAbout('')
      .filter((line) => line.startsWith('gateway: '))
      .slice(-30),
  };
  expect(outcome).toMatchObject({ acknowledged: true });
  expect(load.answered.NEW ?? 0).toBeGreaterThan(0);
}

async function crashUnderLoad(
  scenario: string,
  service: ServiceName,
  faultWhen: (ids: string[]) => boolean | Promise<boolean>,
): Promise<void> {
  const load = new PaymentLoad(clients(), 16, 600).start();
  // Generous: on a busy CI machine (the cluster suite beside it) payments are acknowledged slowly.
  await eventually(
    `load to build up for ${scenario}`,
    async () => ((await faultWhen(load.acknowledged)) ? true : undefined),
    120_000,
  );
  const atFault = await inFlight(e2e, load.acknowledged);
  await e2e.system.killService(service);
  await load.finished();
  await e2e.system.startService(service);
  await settle(e2e, scenario, load, atFault);
}

describe('faults under load', () => {
  it('SIGKILL of the paymaster with hundreds of payments in flight loses nothing', async () => {
    await crashUnderLoad(
      'paymaster SIGKILL',
      'paymaster',
      async (ids) => ids.length >= 300 && (await inFlight(e2e, ids)) >= 100,
    );
  });

  it('SIGKILL of money-storage mid-batch loses nothing and debits nothing twice', async () => {
    await crashUnderLoad('money-storage SIGKILL', 'money-storage', async (ids) => {
      if (ids.length < 300) return false;
      const { rows } = await e2e.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM gateway.payments WHERE id = ANY($1::uuid[]) AND status = 'PROCESSING'`,
        [ids],
      );
      return rows[0]!.n >= 50;
    });
  });

  it('a Kafka outage of about 12 s: createPayment keeps answering (NEW), nothing is lost', async () => {
    const startedAt = Date.now();
    const mark = e2e.linesLogged();
    const load = new PaymentLoad(clients(), 4).start();
    await eventually('some payments before the outage', () => (load.acknowledged.length >= 50 ? true : undefined));
    const atFault = await inFlight(e2e, load.acknowledged);
    await e2e.system.infra.stopBroker();
    try {
      await outageOf12s(load);
    } catch (e) {
      await load.stop(); // or it would go on into the next cases
      throw e;
    } finally {
      // The next case needs its broker whatever happened here.
      await e2e.system.infra.startBroker();
    }
    const afterOutage = load.acknowledged.length;
    await eventually(
      'payments created after the outage',
      () => (load.acknowledged.length >= afterOutage + 50 ? true : undefined),
      120_000,
    );
    await load.stop();
    await settle(e2e, 'kafka outage', load, atFault);
    // Thousands of payments wait on money-storage after the outage (a line each was 7,700 lines a
    // second): at most two lines per window for each of the paymaster's three groups of those
    // warnings (compensating; asking again, while settling or compensating; see LogDigest).
    const { lines, dropped } = e2e.linesSince(mark);
    const waited = lines.filter((line) => line.startsWith('paymaster: ') && line.includes('from money-storage'));
    const windows = Math.ceil((Date.now() - startedAt) / DIGEST_WINDOW_MS) + 1;
    expect({ dropped, waited: waited.length <= 2 * 3 * windows }).toEqual({ dropped: 0, waited: true });
  });

  it('SIGKILL of the gateway during load: every acknowledged payment still ends, and the books agree', async () => {
    await crashUnderLoad('gateway SIGKILL', 'gateway', (ids) => ids.length >= 200);
  });

  it('a gateway started while Kafka is down answers createPayment (NEW), and those payments complete once it is back', async () => {
    await e2e.system.killService('gateway');
    await e2e.system.infra.stopBroker();
    // Ready (its consumers joined) only once the broker is back; it serves before.
    const starting = e2e.system.startService('gateway');
    void starting.catch(() => undefined);
    const load = new PaymentLoad(clients(), 2).start();
    try {
      await eventually(
        'createPayment answered by a gateway that started without Kafka',
        () => ((load.answered.NEW ?? 0) >= 20 ? true : undefined),
        60_000,
      );
    } finally {
      await load.stop();
      await e2e.system.infra.startBroker();
    }
    await starting;
    expect(load.answered).toEqual({ NEW: load.acknowledged.length });
    await settle(e2e, 'gateway started during a Kafka outage', load, 0);
  });
});
