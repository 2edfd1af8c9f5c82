import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import { CreatePayment } from '../../client/operations';
import { eventually } from '../support/infra';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/** A span as an OTLP/HTTP JSON export carries it, with the service.name of the process that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  name: string;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; name: string }> }>;
  }>;
}

/** Plays an OpenTelemetry collector's OTLP/HTTP receiver: `POST /v1/traces`, JSON. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; stop: () => Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpJson;
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const s of (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []))
          spans.push({ service, traceId: s.traceId, name: s.name });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The production path: three processes started by the launcher, each exporting over OTLP/HTTP
 * because OTEL_EXPORTER_OTLP_ENDPOINT is set, each under its own service.name.
 */
let e2e: E2ESystem;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
  e2e = await startE2E('otlp', {
    ownKafka: false,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      PAYMASTER_DELAY_MIN_MS: '10',
      PAYMASTER_DELAY_MAX_MS: '50',
    },
  });
}, 180_000);
afterAll(async () => {
  await e2e?.stop();
  await receiver?.stop();
}, 60_000);

it('exports one trace per payment from all three services to the OTLP endpoint', async () => {
  const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const client = e2e.client('otto');
  const res = await fetch(`${e2e.system.url('gateway')}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${client.token}`,
      traceparent: `00-${traceId}-1122334455667788-01`,
    },
    body: JSON.stringify({ query: print(CreatePayment), variables: { input: { amount: 1, currency: 'EUR' } } }),
  });
  const id = ((await res.json()) as { data: { createPayment: { id: string } } }).data.createPayment.id;
  await awaitTerminal(e2e.sql, [id], 30_000); // REJECTED: otto has no money, which is a whole trace too

  const services = await eventually(
    'spans of the payment from every service',
    () => {
      const seen = new Set(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.service));
      return seen.size === 3 ? seen : undefined;
    },
    30_000,
  );
  expect([...services].sort()).toEqual(['gateway', 'money-storage', 'paymaster']);
  expect(
    receiver.spans.some((s) => s.traceId === traceId && s.service === 'gateway' && s.name === 'POST /graphql'),
  ).toBe(true);
});
