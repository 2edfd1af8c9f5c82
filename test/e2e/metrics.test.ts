import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { subscribe } from '../../client/gateway-client';
import { CreatePayment, CreditAccount, MyAccounts, WatchMyPayments } from '../../client/operations';
import type { ServiceName } from '../../infra/stack';
import { dlqOf, topicNames, type TopicKey } from '../../common/kafka/topics';
import { eventually } from '../support/infra';
import { validMessage } from '../support/poison';
import { scrape, type Scrape } from '../../common/prometheus-text';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/**
 * `GET /metrics` on each service's public port, scraped before and during a real flow: the
 * default process series exist for every service, and each domain series moves with the event
 * it counts. Every wait is on the scraped value itself, bounded.
 */
let e2e: E2ESystem;
beforeAll(async () => {
  // One second per stage delay: long enough to see the payment held, short enough for a test.
  e2e = await startE2E('metrics', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '1000', PAYMASTER_DELAY_MAX_MS: '1000', SELF_DEPOSIT_MAX: '0' },
  });
}, 180_000);
afterAll(() => e2e?.stop(), 60_000);

const SERVICES: ServiceName[] = ['gateway', 'paymaster', 'money-storage'];
const scrapeOf = (service: ServiceName): Promise<Scrape> => scrape(e2e.system.url(service));

/** Scrapes `service` until `accept` holds for the scrape, within 20 s. */
const untilScraped = (service: ServiceName, what: string, accept: (s: Scrape) => boolean): Promise<Scrape> =>
  eventually(`${service}: ${what}`, async () => {
    const s = await scrapeOf(service);
    return accept(s) ? s : undefined;
  });

it('serves default process metrics labelled with the service, without a token', async () => {
  for (const service of SERVICES) {
    const s = await scrapeOf(service);
    expect(s.matching('process_cpu_user_seconds_total', { service })).toHaveLength(1);
    expect(s.matching('nodejs_heap_size_used_bytes', { service })).toHaveLength(1);
    expect(s.samples.every((x) => x.labels.service === service)).toBe(true);
  }
});

it('moves the payment, stage, subscription and ledger series with a payment', async () => {
  const before = {
    gateway: await scrapeOf('gateway'),
    paymaster: await scrapeOf('paymaster'),
    money: await scrapeOf('money-storage'),
  };
  const alice = e2e.client('alice');
  const ws = alice.connect();
  try {
    subscribe(ws, WatchMyPayments);
    const subscribers = before.gateway.sum('gateway_live_subscriptions');
    await untilScraped(
      'gateway',
      'the subscription counted',
      (s) => s.sum('gateway_live_subscriptions') === subscribers + 1,
    );

    await e2e
      .operator('olga')
      .data(CreditAccount, { userName: 'alice', amount: 5000, currency: 'EUR', idempotencyKey: 'metrics-alice' });
    await eventually(
      'alice’s funds',
      async () => ((await alice.data(MyAccounts)).myAccounts[0]?.balance === '5000' ? true : undefined),
      30_000,
    );
    const { createPayment } = await alice.data(CreatePayment, { input: { amount: 1500, currency: 'EUR' } });
    await untilScraped('paymaster', 'the payment held', (s) => s.sum('paymaster_payments_in_flight') === 1);
    expect(await awaitTerminal(e2e.sql, [createPayment.id], 30_000)).toEqual({ COMPLETED: 1 });

    const grew = (s: Scrape, was: Scrape, name: string, labels: Record<string, string>) =>
      s.sum(name, labels) - was.sum(name, labels);
    const gateway = await untilScraped(
      'gateway',
      'the COMPLETED change counted',
      (s) => grew(s, before.gateway, 'payments_status_changes_total', { status: 'COMPLETED', currency: 'EUR' }) === 1,
    );
    for (const status of ['NEW', 'CREATED'])
      expect(grew(gateway, before.gateway, 'payments_status_changes_total', { status, currency: 'EUR' })).toBe(1);
    expect(grew(gateway, before.gateway, 'gateway_create_payment_duration_seconds_count', {})).toBe(1);
    // Each of its steps timed once: the deposit before it went to the broker by another path.
    for (const stage of ['insert', 'publish', 'mark'])
      expect(grew(gateway, before.gateway, 'gateway_create_payment_stage_seconds_count', { stage })).toBe(1);

    const paymaster = await untilScraped(
      'paymaster',
      'the payment released',
      (s) => s.sum('paymaster_payments_in_flight') === 0,
    );
    for (const milestone of ['processing', 'debit_answered', 'terminal']) {
      expect(grew(paymaster, before.paymaster, 'paymaster_payment_milestone_seconds_count', { milestone })).toBe(1);
    }
    // Two stage delays of one second lie between taking the payment and its terminal status.
    expect(
      grew(paymaster, before.paymaster, 'paymaster_payment_milestone_seconds_sum', { milestone: 'terminal' }),
    ).toBeGreaterThanOrEqual(2);

    const money = await scrapeOf('money-storage');
    for (const kind of ['CREDIT', 'DEBIT']) {
      expect(
        grew(money, before.money, 'ledger_operations_total', { kind, outcome: 'APPLIED', reason: 'none' }),
      ).toBeGreaterThanOrEqual(1);
    }
    // The debit was final once applied: no SETTLE round trip.
    expect(
      grew(money, before.money, 'ledger_operations_total', { kind: 'SETTLE', outcome: 'APPLIED', reason: 'none' }),
    ).toBe(0);
  } finally {
    await ws.dispose();
  }
  await untilScraped(
    'gateway',
    'the subscription gone',
    (s) => s.sum('gateway_live_subscriptions') === before.gateway.sum('gateway_live_subscriptions'),
  );
});

it('counts the outbox backlog at scrape time, read at most once a second', async () => {
  const backlog = async () => (await scrapeOf('gateway')).sum('gateway_outbox_backlog');
  const reads = (n: number) => async () => ((await backlog()) === n ? true : undefined);
  const was = await backlog();
  expect(Number.isNaN(was)).toBe(false);
  // The sweeper leaves rows younger than 5 s alone; the count is a second old at most.
  const payload = validMessage('payments');
  const { rows } = await e2e.sql.query<{ id: string }>(
    "INSERT INTO gateway.outbox (topic, message_key, payload, traceparent) VALUES ('payments', $1, $2, '') RETURNING id",
    [payload.paymentId, payload],
  );
  try {
    await eventually('the backlog to count the row', reads(was + 1), 4000);
  } finally {
    await e2e.sql.query('DELETE FROM gateway.outbox WHERE id = $1', [rows[0]!.id]);
  }
  await eventually('the backlog to be back', reads(was), 4000);
});

it('counts each parked message per DLQ topic in the service that parked it', async () => {
  const names = topicNames(e2e.system.env.KAFKA_TOPIC_PREFIX);
  const parkers: Array<[ServiceName, TopicKey]> = [
    ['gateway', 'statusPayments'],
    ['paymaster', 'payments'],
    ['money-storage', 'moneyOperations'],
  ];
  const before = await Promise.all(
    parkers.map(([service, topic]) =>
      scrapeOf(service).then((s) => s.sum('dlq_messages_total', { topic: dlqOf(names[topic]) })),
    ),
  );
  const producer = new Kafka({
    brokers: e2e.system.infra.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  try {
    for (const [, topic] of parkers)
      await producer.send({
        topic: names[topic],
        acks: -1,
        messages: [{ key: randomUUID(), value: 'not json at all' }],
      });
  } finally {
    await producer.disconnect();
  }
  await Promise.all(
    parkers.map(([service, topic], i) =>
      untilScraped(
        service,
        `a message parked in ${topic}'s DLQ`,
        (s) => s.sum('dlq_messages_total', { topic: dlqOf(names[topic]) }) === before[i]! + 1,
      ),
    ),
  );
});

it('reports consumer lag per group and partition for the groups that commit, drained after the flow', async () => {
  const prefix = e2e.system.env.KAFKA_TOPIC_PREFIX ?? '';
  const names = topicNames(prefix);
  const expected: Array<[ServiceName, string]> = [
    ['gateway', names.statusPayments],
    ['gateway', names.moneyOperationResults],
    ['paymaster', names.payments],
    ['paymaster', names.moneyOperationResults],
    ['money-storage', names.moneyOperations],
  ];
  for (const [service, topic] of expected) {
    // The lag is cached for 5 s, so draining is waited on for longer than that.
    const s = await untilScraped(service, `${topic} drained`, (x) => {
      const lags = x.matching('kafka_consumer_lag', { topic });
      return lags.length === 8 && lags.every((l) => l.value === 0);
    });
    expect(s.matching('kafka_consumer_lag', { topic }).every((l) => l.labels.group!.startsWith(prefix))).toBe(true);
  }
});
