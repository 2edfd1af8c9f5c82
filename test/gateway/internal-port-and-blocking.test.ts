import { connectDatabase, type Database } from '../../common/db';
import { subscribe } from '../../client/gateway-client';
import { CreatePayment, MyPayments, WatchMyPayments } from '../../client/operations';
import * as schema from '../../gateway/db/schema';
import { PaymentStore } from '../../gateway/src/payment-store';
import { startTestGateway, userIdOf, type TestGateway } from './harness';
import { ApiError } from '../../common/api-error';

let t: TestGateway;
beforeAll(async () => {
  // A long cache: anything seen before it runs out was the block's own invalidation, not the TTL.
  t = await startTestGateway('internal', { USER_STATUS_CACHE_MS: '60000' });
});
afterAll(() => t?.stop());

const setStatus = (
  base: string,
  id: string,
  status: string,
  headers: Record<string, string> = { 'x-service-token': t.serviceToken },
) => fetch(`${base}/internal/users/${id}/status`, { method: 'PUT', headers, body: JSON.stringify({ status }) });

describe('the internal API', () => {
  it('is not on the public port, even with the service token', async () => {
    await t.client('pia').data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    const id = await userIdOf(t, 'pia');
    const headers = { 'x-service-token': t.serviceToken };
    expect((await fetch(`${t.url}/internal/users/1`, { headers })).status).toBe(404);
    expect((await fetch(`${t.url}/internal/users/${id}`, { headers })).status).toBe(404);
    expect((await setStatus(t.url, id, 'BLOCKED')).status).toBe(404);
    expect(await (await fetch(`${t.internalUrl}/internal/users/${id}`, { headers })).json()).toEqual({
      id,
      userName: 'pia',
      status: 'ACTIVE',
    });
  });

  it('answers 401 without the right token on its own port', async () => {
    const refused = await fetch(`${t.internalUrl}/internal/users/1`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('ServiceToken header="x-service-token"');
    expect((await setStatus(t.internalUrl, '1', 'BLOCKED', {})).status).toBe(401);
    expect((await setStatus(t.internalUrl, '1', 'BLOCKED', { 'x-service-token': `${t.serviceToken}x` })).status).toBe(
      401,
    );
    expect((await fetch(`${t.internalUrl}/api/payments`)).status).toBe(404);
  });
});

describe('a blocked user', () => {
  it('gets FORBIDDEN on GraphQL, REST and subscriptions as soon as the block is set, and is served again once unblocked', async () => {
    const bo = t.client('bo');
    await bo.data(CreatePayment, { input: { amount: 5, currency: 'EUR' } });
    const id = await userIdOf(t, 'bo');
    expect((await setStatus(t.internalUrl, id, 'BLOCKED')).status).toBe(200);

    const code = async (result: Promise<{ errors?: Array<{ extensions?: { code?: string } }> }>) =>
      (await result).errors?.[0]?.extensions?.code;
    expect(await code(bo.request(CreatePayment, { input: { amount: 5, currency: 'EUR' } }))).toBe('FORBIDDEN');
    expect(await code(bo.request(MyPayments, {}))).toBe('FORBIDDEN');
    const headers = { authorization: `Bearer ${bo.token}`, 'content-type': 'application/json' };
    const list = await fetch(`${t.url}/api/payments`, { headers });
    expect([list.status, await list.json()]).toEqual([
      403,
      { error: { code: 'FORBIDDEN', message: 'this account is blocked' } },
    ]);
    const post = await fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ userName: 'bo', amount: 5, currency: 'EUR' }),
    });
    expect(post.status).toBe(403);
    const ws = bo.connect();
    try {
      const sub = subscribe(ws, WatchMyPayments);
      await sub.done;
      expect(JSON.stringify(sub.errors)).toMatch(/FORBIDDEN/);
    } finally {
      await ws.dispose();
    }

    expect((await setStatus(t.internalUrl, id, 'ACTIVE')).status).toBe(200);
    expect((await bo.data(CreatePayment, { input: { amount: 5, currency: 'EUR' } })).createPayment.status).toBe(
      'CREATED',
    );
  });

  it('blocked by another replica cannot pay at all, even while this one’s cache still says ACTIVE', async () => {
    const ivy = t.client('ivy');
    await ivy.data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    const id = await userIdOf(t, 'ivy');
    const payments = async () =>
      (await t.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM gateway.payments WHERE user_id = $1', [id]))
        .rows[0]!.n;
    await t.sql.query("UPDATE gateway.users SET status = 'BLOCKED' WHERE id = $1", [id]); // what another replica's PUT does
    const refused = await ivy.request(CreatePayment, { input: { amount: 2, currency: 'EUR' } });
    expect(refused.errors?.[0]).toMatchObject({
      message: 'this account is blocked',
      extensions: { code: 'FORBIDDEN' },
    });
    expect(await payments()).toBe(1);
    // Reads still go by the 60 s cache; the payment's own statement does not.
    expect((await ivy.data(MyPayments, {})).myPayments.totalCount).toBe(1);
    await t.sql.query("UPDATE gateway.users SET status = 'ACTIVE' WHERE id = $1", [id]);
    expect((await ivy.data(CreatePayment, { input: { amount: 3, currency: 'EUR' } })).createPayment.status).toBe(
      'CREATED',
    );
    expect(await payments()).toBe(2);
  });

  it('blocked by another replica is refused once this one’s USER_STATUS_CACHE_MS has passed', async () => {
    await t.client('rex').data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    const id = await userIdOf(t, 'rex');
    await t.sql.query("UPDATE gateway.users SET status = 'BLOCKED' WHERE id = $1", [id]); // what another replica's PUT does
    // The gateway's own store still trusts its 60 s cache; a store whose cache has run out reads the block.
    expect(await t.gateway.store.userIdFor('rex')).toBe(id);
    const database: Database<typeof schema> = connectDatabase(t.databaseUrl, schema, 1);
    try {
      const refused = await new PaymentStore(database.db, { userStatusTtlMs: 0 })
        .userIdFor('rex')
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ code: 'FORBIDDEN', message: 'this account is blocked' });
    } finally {
      await database.close();
    }
  });

  it('past its size, the user cache lets the user fetched longest ago go, and only that one', async () => {
    const database: Database<typeof schema> = connectDatabase(t.databaseUrl, schema, 1);
    try {
      // Trusted for an hour: only a user the cache let go reads the block below.
      const store = new PaymentStore(database.db, { userStatusTtlMs: 3_600_000, usersKept: 2 });
      const [oldest, newer] = [await store.userIdFor('cached-1'), await store.userIdFor('cached-2')];
      await t.sql.query("UPDATE gateway.users SET status = 'BLOCKED' WHERE id IN ($1, $2)", [oldest, newer]);
      await store.userIdFor('cached-3');
      expect(await store.userIdFor('cached-2')).toBe(newer);
      await expect(store.userIdFor('cached-1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await database.close();
    }
  });
});
