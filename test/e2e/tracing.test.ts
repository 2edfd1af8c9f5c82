import 'reflect-metadata';
import { print } from 'graphql';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { CreatePayment, Deposit, GetCredit, GetPaymentStatus } from '../../client/operations';
import { createLogger } from '../../common/logger';
import { installTracing, type Tracing } from '../../common/tracing';
import { loadMoneyStorageConfig } from '../../money-storage/src/config';
import { startMoneyStorage } from '../../money-storage/src/service';
import type { RunningService } from '../../common/service';
import { startTestGateway, type TestGateway } from '../gateway/harness';
import { paymasterEnv, startInProcess } from '../paymaster/helpers';
import { eventually } from '../support/infra';
import { testSecrets } from '../support/secrets';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

/** What one payment's trace must hold, by service: every hop of its life. */
const EXPECTED: Record<string, string[]> = {
  gateway: ['POST /graphql', 'graphql mutation CreatePayment', 'status-payments process'],
  paymaster: [
    'payments process',
    'money-operations publish',
    'money-operation-results process',
    'status-payments publish',
  ],
  'money-storage': ['money-operations process'],
};

const holdsEveryHop = (spans: ReadableSpan[]): boolean =>
  Object.entries(EXPECTED).every(([service, names]) =>
    names.every((name) => spans.some((s) => s.instrumentationScope.name === service && s.name === name)),
  );

/**
 * All three services in this process, exporting to the SDK's in-memory exporter; each names its
 * spans with its own tracer, so the trace shows which service did what.
 */
describe('one payment, one trace across the three services', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let gw: TestGateway;
  const services: RunningService[] = [];

  beforeAll(async () => {
    tracing = installTracing({ service: 'gateway', exporter, processing: 'simple' });
    gw = await startTestGateway('tracing');
    const moneyStorage = loadMoneyStorageConfig({
      ...testSecrets(),
      INTERNAL_SERVICE_TOKEN: gw.serviceToken,
      KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
      KAFKA_TOPIC_PREFIX: gw.prefix,
      DATABASE_URL: gw.databaseUrl,
      GATEWAY_URL: gw.internalUrl,
      PORT: '0',
      INTERNAL_PORT: '0',
    });
    services.push(
      ...(await Promise.all([
        startInProcess(paymasterEnv(gw.prefix)),
        startMoneyStorage(moneyStorage, createLogger('money-storage', process.env.TEST_LOG_LEVEL ?? 'silent')),
      ])),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await gw?.stop();
    await tracing?.shutdown();
  });

  it('continues the client traceparent through HTTP, GraphQL, Kafka and Postgres to COMPLETED', async () => {
    const client = gw.client('tracy');
    const { operationId } = (
      await client.data(Deposit, { amount: 1_000, currency: 'EUR', idempotencyKey: 'tracy-funds' })
    ).deposit;
    await eventually(
      'the deposit',
      async () => ((await client.data(GetCredit, { operationId })).credit?.status === 'APPLIED' ? true : undefined),
      30_000,
    );

    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${client.token}`,
        traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`,
      },
      body: JSON.stringify({
        query: print(CreatePayment),
        variables: { input: { amount: 400, currency: 'EUR', idempotencyKey: 'traced' } },
      }),
    });
    const id = ((await res.json()) as { data: { createPayment: { id: string } } }).data.createPayment.id;
    await eventually(
      'COMPLETED',
      async () => ((await client.data(GetPaymentStatus, { id })).paymentStatus === 'COMPLETED' ? true : undefined),
      30_000,
    );

    const ours = (): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === CLIENT_TRACE);
    const spans = await eventually(
      'every hop in the trace',
      () => (holdsEveryHop(ours()) ? ours() : undefined),
      30_000,
    );

    // One tree: every span's parent is in the trace, up to the client's own span.
    const ids = new Set([CLIENT_SPAN, ...spans.map((s) => s.spanContext().spanId)]);
    const orphans = spans.filter((s) => !ids.has(s.parentSpanContext?.spanId ?? ''));
    expect(orphans.map((s) => `${s.instrumentationScope.name}: ${s.name}`)).toEqual([]);
    expect(spans.find((s) => s.name === 'POST /graphql')!.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    // Postgres, inside money-storage's handling of the debit.
    expect(spans.some((s) => s.instrumentationScope.name === 'money-storage' && s.name.startsWith('pg '))).toBe(true);
    // Each status the paymaster published reached the gateway within the same trace.
    const published = spans.filter((s) => s.name === 'status-payments publish').length;
    expect(published).toBeGreaterThanOrEqual(2);
    process.stdout.write(
      `one payment, ${spans.length} spans in one trace: ${[...new Set(spans.map((s) => `${s.instrumentationScope.name}/${s.name}`))].join(', ')}\n`,
    );
  });
});
