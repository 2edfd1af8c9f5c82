import { sql } from 'drizzle-orm';
import { CreatePayment, MyAccounts, MyPayments } from '../../client/operations';
import { OPENAPI_DOCUMENT } from '../../gateway/src/http/openapi';
import { freshDatabase } from '../support/infra';
import { OpenApiValidator } from '../support/openapi-validator';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTestGateway, type TestGateway } from './harness';

/**
 * With Postgres taken away (a real TCP hop cut in front of the real server), clients get a clean,
 * retryable answer: UNAVAILABLE over GraphQL, 503 with Retry-After over REST, an error id, and no SQL.
 */
let t: TestGateway;
let proxy: TcpProxy;
beforeAll(async () => {
  const direct = new URL(await freshDatabase('outage'));
  proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
  const viaProxy = new URL(direct);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  t = await startTestGateway('outage', { DATABASE_URL: viaProxy.toString() });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await t?.stop();
  await proxy?.close();
});

const LEAKS = /select|insert|update|gateway\.|jsonb|params|\$1|stack|at .*\.js/i;

it('answers UNAVAILABLE / 503 with Retry-After while Postgres is away, then recovers', async () => {
  const c = t.client('patient');
  expect((await c.data(CreatePayment, { input: { amount: 5, currency: 'EUR' } })).createPayment.status).toBe('CREATED');
  await proxy.cut();
  try {
    for (const r of [
      await c.request(CreatePayment, { input: { amount: 5, currency: 'EUR', idempotencyKey: 'retry-me' } }),
      await c.request(MyPayments, {}),
    ]) {
      /* eslint-disable @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers (expect.any, expect.stringMatching) are typed any */
      expect(r.errors?.[0]?.extensions).toMatchObject({
        code: 'UNAVAILABLE',
        retryAfterSeconds: expect.any(Number),
        errorId: expect.any(String),
      });
      /* eslint-enable @typescript-eslint/no-unsafe-assignment */
      expect(r.errors?.[0]?.message).not.toMatch(LEAKS);
    }
    const rest = await fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'patient', amount: 5, currency: 'EUR', idempotencyKey: 'retry-me' }),
    });
    expect(rest.status).toBe(503);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    await new OpenApiValidator(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)) as Record<string, unknown>).check(
      'POST',
      '/api/payments',
      rest.clone(),
    );
    const text = await rest.text();
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers (expect.any, expect.stringMatching) are typed any
    expect(JSON.parse(text) as unknown).toMatchObject({ error: { code: 'UNAVAILABLE', errorId: expect.any(String) } });
    expect(text).not.toMatch(LEAKS);
  } finally {
    await proxy.restore();
  }
  // The client's retry with its key is what recovers the request: it is created exactly once.
  const again = await c.data(CreatePayment, { input: { amount: 5, currency: 'EUR', idempotencyKey: 'retry-me' } });
  expect(
    (await c.data(CreatePayment, { input: { amount: 5, currency: 'EUR', idempotencyKey: 'retry-me' } })).createPayment
      .id,
  ).toBe(again.createPayment.id);
});

it('survives Postgres going away under an open transaction: the transaction fails, the process lives', async () => {
  const failed = t.gateway.store.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT 1`);
    await proxy.cut();
    await tx.execute(sql`SELECT 1`);
  });
  try {
    await expect(failed).rejects.toThrow();
  } finally {
    await proxy.restore();
  }
  const c = t.client('after-the-cut');
  expect((await c.data(CreatePayment, { input: { amount: 1, currency: 'EUR' } })).createPayment.status).toMatch(
    /CREATED|NEW/,
  );
});

it('answers UNAVAILABLE when money-storage cannot be reached', async () => {
  const r = await t.client('balance-seeker').request(MyAccounts);
  expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE' });
});
