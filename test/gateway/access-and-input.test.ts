import { getIntrospectionQuery } from 'graphql';
import jwt from 'jsonwebtoken';
import { GatewayClient } from '../../client/gateway-client';
import { CreatePayment, GetPayment, GetPaymentStatus, MyPayments } from '../../client/operations';
import { countRows, startTestGateway, userIdOf, type TestGateway } from './harness';
import { MAX_USER_LOOKUP_IDS, USER_LOOKUP_PATH } from '../../common/user-lookup';
import { doublingFragments } from '../support/hostile-documents';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('access');
});
afterAll(() => t?.stop());

const gql = (query: string, variables: unknown = {}, token?: string, extraHeaders: Record<string, string> = {}) =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...extraHeaders,
    },
    body: typeof variables === 'string' ? variables : JSON.stringify({ query, variables }),
  });
const token = (user: string) => t.client(user).token!;
const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';

describe('cross-user access', () => {
  it('is denied on every query, the REST facade and REST creation', async () => {
    const { createPayment } = await t.client('owner').data(CreatePayment, { input: { amount: 10, currency: 'GBP' } });
    const intruder = t.client('intruder');
    expect((await intruder.data(GetPayment, { id: createPayment.id })).payment).toBeNull();
    expect((await intruder.data(GetPaymentStatus, { id: createPayment.id })).paymentStatus).toBeNull();
    expect((await intruder.data(MyPayments, {})).myPayments.totalCount).toBe(0);
    const headers = { authorization: `Bearer ${token('intruder')}` };
    expect((await fetch(`${t.url}/api/payments/${createPayment.id}`, { headers })).status).toBe(404);
    expect((await fetch(`${t.url}/api/payments/${createPayment.id}/status`, { headers })).status).toBe(404);
    const list = (await (await fetch(`${t.url}/api/payments`, { headers })).json()) as { payments: unknown[] };
    expect(list.payments).toEqual([]);
    const post = await fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'owner', amount: 5, currency: 'GBP' }),
    });
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });
});

describe('the REST facade', () => {
  it('creates, reads and lists with the same rules as GraphQL', async () => {
    const headers = { authorization: `Bearer ${token('rest-user')}`, 'content-type': 'application/json' };
    const created = await fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ userName: 'rest-user', amount: 700, currency: 'CHF' }),
    });
    expect(created.status).toBe(201);
    const { id, status } = (await created.json()) as { id: string; status: string };
    expect(status).toBe('CREATED');
    expect(await (await fetch(`${t.url}/api/payments/${id}`, { headers })).json()).toMatchObject({
      id,
      amount: 700,
      currency: 'CHF',
      userName: 'rest-user',
    });
    expect(await (await fetch(`${t.url}/api/payments/${id}/status`, { headers })).json()).toMatchObject({
      id,
      status: 'CREATED',
    });
    const list = (await (await fetch(`${t.url}/api/payments`, { headers })).json()) as {
      payments: Array<{ id: string }>;
      totalCount: number;
    };
    expect(list.payments.map((p) => p.id)).toEqual([id]);
    expect((await fetch(`${t.url}/api/payments/not-a-uuid`, { headers })).status).toBe(404);
  });
});

describe('bad input', () => {
  const cases: Array<[string, unknown]> = [
    ['negative', { amount: -5, currency: 'USD' }],
    ['zero', { amount: 0, currency: 'USD' }],
    ['float', { amount: 1.5, currency: 'USD' }],
    ['huge', { amount: 1_000_000_001, currency: 'USD' }],
    ['beyond Int', { amount: 2 ** 40, currency: 'USD' }],
    ['string amount', { amount: '100', currency: 'USD' }],
    ['unknown currency', { amount: 100, currency: 'XXX' }],
    ['SQL-ish currency', { amount: 100, currency: "USD'; DROP TABLE gateway.payments; --" }],
    ['overlong idempotency key', { amount: 100, currency: 'USD', idempotencyKey: 'k'.repeat(101) }],
  ];

  it.each(cases)(
    '%s amount/currency over GraphQL variables → BAD_USER_INPUT, nothing written',
    async (_name, input) => {
      const before = await countRows(t);
      const res = await gql(CREATE, { input }, token('validator'));
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(await countRows(t)).toEqual(before);
    },
  );

  it.each(cases)('%s over REST → 400 with a JSON error, nothing written', async (_name, input) => {
    const before = await countRows(t);
    const res = await fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token('validator')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'validator', ...(input as object) }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'BAD_USER_INPUT' } });
    expect(await countRows(t)).toEqual(before);
  });

  it('rejects bad literals inline in the document with BAD_USER_INPUT', async () => {
    for (const literal of [
      'amount: -1, currency: USD',
      'amount: 2.5, currency: USD',
      'amount: 10, currency: XXX',
      'amount: 99999999999, currency: USD',
    ]) {
      const res = await gql(`mutation { createPayment(input: { ${literal} }) { id } }`, {}, token('validator'));
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('answers malformed JSON with 400 and a JSON body, over GraphQL and REST', async () => {
    const g = await gql('', '{"query": "mutation {', token('validator'));
    expect(g.status).toBe(400);
    expect(await g.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_JSON' } }] });
    const r = await fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token('validator')}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'BAD_JSON' } });
  });

  it('refuses oversized bodies with 413', async () => {
    const res = await gql(
      '',
      JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(200_000) }),
      token('validator'),
    );
    expect(res.status).toBe(413);
  });

  it('refuses wide, costly and batched queries', async () => {
    const complexity = async (query: string) => {
      const body = (await (await gql(query, {}, token('validator'))).json()) as {
        errors?: Array<{ extensions?: { code?: string } }>;
      };
      return body.errors?.[0]?.extensions?.code ?? 'OK';
    };
    expect(await complexity('{ myPayments(first: 10) { edges { node { id status } } } }')).toBe('OK');
    expect(await complexity(`{ ${Array.from({ length: 1100 }, (_, i) => `a${i}: __typename`).join(' ')} }`)).toBe(
      'QUERY_TOO_COMPLEX',
    );
    expect(
      await complexity(
        '{ myPayments(first: 200) { edges { node { id userName amount currency status reason createdAt updatedAt } } } }',
      ),
    ).toBe('QUERY_TOO_COMPLEX');
    // A variable named like an Object.prototype member, never sent: its default is the page size.
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      const wide = `query($${name}: Int = 200) { myPayments(first: $${name}) { edges { node { id userName amount currency status reason createdAt updatedAt } } } }`;
      expect([name, await complexity(wide)]).toEqual([name, 'QUERY_TOO_COMPLEX']);
    }
    // Introspection's fields count toward the cost too: 4,800 aliased __schema made a 110 MB answer.
    const schemas = Array.from({ length: 600 }, (_, i) => `s${i}: __schema { queryType { name } }`).join(' ');
    expect(await complexity(`{ ${schemas} }`)).toBe('QUERY_TOO_COMPLEX');
    // The explorer's introspection (15 deep, outside production) is bounded by graphql's own rules instead.
    expect(await complexity(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }))).toBe('OK');
    expect(await complexity('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }')).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    ); // MaxIntrospectionDepthRule
    const batched = await gql(
      '',
      JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
      token('validator'),
    );
    expect(batched.status).toBe(400);
  });

  it('measures a fragment once however often it is spread', async () => {
    // When introspection counted nothing, walking this 1.6 KB document at every spread took 2^40
    // steps and held the event loop, every other caller's requests with it. It selects 2^40 fields.
    const chain = doublingFragments('query', 'Query', '__type(name: "Payment") { name }', 40);
    const res = await gql(chain, {}, token('validator'));
    const answer = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect([res.status, answer.errors.map((e) => e.extensions.code)]).toEqual([400, ['QUERY_TOO_COMPLEX']]);
  });

  it.each([
    [
      'a subscription, which only graphql-ws serves',
      { query: 'subscription { myPaymentStatuses { paymentId } }' },
      'BAD_REQUEST',
    ],
    [
      'a persisted query whose hash does not match',
      { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } },
      'BAD_REQUEST',
    ],
    [
      'a persisted query of an unknown version',
      { query: '{ __typename }', extensions: { persistedQuery: { version: 2, sha256Hash: 'x' } } },
      'BAD_REQUEST',
    ],
    [
      'a persisted query never registered',
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } },
      'PERSISTED_QUERY_NOT_FOUND', // answered 200, as Apollo's clients expect before they send the query itself
    ],
  ])('answers %s over HTTP with a code, not as an internal error', async (_name, body, code) => {
    const res = await gql('', JSON.stringify(body), token('validator'));
    const answer = (await res.json()) as { errors: Array<{ extensions: { code: string; errorId?: string } }> };
    const status = code === 'PERSISTED_QUERY_NOT_FOUND' ? 200 : 400;
    expect([res.status, answer.errors.map((e) => e.extensions.code)]).toEqual([status, [code]]);
    expect(answer.errors[0]!.extensions.errorId).toBeUndefined();
  });
});

describe('authentication', () => {
  const forged = () => ({
    missing: undefined,
    garbage: 'garbage',
    'wrong secret': jwt.sign({}, 'another-secret-that-is-long-enough-000000', {
      algorithm: 'HS256',
      subject: 'mallory',
    }),
    expired: jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, t.secret, {
      algorithm: 'HS256',
      subject: 'mallory',
    }),
    'alg none': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.`,
    'no subject': jwt.sign({}, t.secret, { algorithm: 'HS256', expiresIn: 60 }),
    'no exp': jwt.sign({}, t.secret, { algorithm: 'HS256', subject: 'mallory' }),
  });

  it.each(['missing', 'garbage', 'wrong secret', 'expired', 'alg none', 'no subject', 'no exp'])(
    'a %s token → 401 UNAUTHENTICATED over GraphQL and REST',
    async (kind) => {
      const value = forged()[kind as keyof ReturnType<typeof forged>];
      const before = await countRows(t);
      const g = await gql(CREATE, { input: { amount: 5, currency: 'USD' } }, value);
      expect(g.status).toBe(401);
      expect(await g.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      const r = await fetch(`${t.url}/api/payments`, { headers: value ? { authorization: `Bearer ${value}` } : {} });
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
      expect(await countRows(t)).toEqual(before);
    },
  );

  it('answers a caller without a token 401 before reading its body: a large malformed one is not parsed', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query": "${'x'.repeat(90_000)}`, // not JSON: read, it would be BAD_JSON (400)
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="payments"');
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });
});

describe('the internal API for money-storage', () => {
  it('needs the service token, answers a user’s auth data, and can block a user', async () => {
    await t.client('kim').data(CreatePayment, { input: { amount: 1, currency: 'KZT' } });
    const id = await userIdOf(t, 'kim');
    expect((await fetch(`${t.internalUrl}/internal/users/${id}`)).status).toBe(401);
    expect(
      (await fetch(`${t.internalUrl}/internal/users/${id}`, { headers: { 'x-service-token': 'wrong' } })).status,
    ).toBe(401);
    const headers = { 'x-service-token': t.serviceToken };
    expect(await (await fetch(`${t.internalUrl}/internal/users/${id}`, { headers })).json()).toEqual({
      id,
      userName: 'kim',
      status: 'ACTIVE',
    });
    expect((await fetch(`${t.internalUrl}/internal/users/999999999`, { headers })).status).toBe(404);
    expect((await fetch(`${t.internalUrl}/internal/users/abc`, { headers })).status).toBe(400);
    const blocked = await fetch(`${t.internalUrl}/internal/users/${id}/status`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ status: 'BLOCKED' }),
    });
    expect(await blocked.json()).toMatchObject({ status: 'BLOCKED' });
    expect(await (await fetch(`${t.internalUrl}/internal/users/${id}`, { headers })).json()).toMatchObject({
      status: 'BLOCKED',
    });
  });
});

describe('the batched user lookup for money-storage (POST /internal/users/lookup)', () => {
  const lookup = (body: string, headers: Record<string, string> = { 'x-service-token': t.serviceToken }) =>
    fetch(`${t.internalUrl}${USER_LOOKUP_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('answers the known users of a list in one request, the unknown ones absent', async () => {
    await t.client('lea').data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    await t.client('mo').data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    const [lea, mo] = [await userIdOf(t, 'lea'), await userIdOf(t, 'mo')];
    const res = await lookup(JSON.stringify({ ids: [lea, '999999999', mo, lea] }));
    expect(res.status).toBe(200);
    const { users } = (await res.json()) as { users: Array<{ id: string }> };
    expect(users.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: lea, userName: 'lea', status: 'ACTIVE' },
        { id: mo, userName: 'mo', status: 'ACTIVE' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('needs the service token', async () => {
    expect((await lookup('{"ids":["1"]}', {})).status).toBe(401);
    expect((await lookup('{"ids":["1"]}', { 'x-service-token': 'wrong' })).status).toBe(401);
  });

  const tooMany = JSON.stringify({ ids: Array.from({ length: MAX_USER_LOOKUP_IDS + 1 }, (_, i) => String(i + 1)) });
  it.each([
    ['not JSON', '{"ids": [', 400, 'BAD_JSON'],
    ['no ids', '{}', 400, 'BAD_USER_INPUT'],
    ['ids not a list', '{"ids": "1"}', 400, 'BAD_USER_INPUT'],
    ['an empty list', '{"ids": []}', 400, 'BAD_USER_INPUT'],
    ['a number, not a string', '{"ids": [1]}', 400, 'BAD_USER_INPUT'],
    ['zero', '{"ids": ["0"]}', 400, 'BAD_USER_INPUT'],
    ['past int8', '{"ids": ["9223372036854775808"]}', 400, 'BAD_USER_INPUT'],
    ['a NUL', '{"ids": ["1\\u0000"]}', 400, 'BAD_USER_INPUT'],
    ['a lone surrogate', '{"ids": ["\\ud800"]}', 400, 'BAD_USER_INPUT'],
    ['an array literal', '{"ids": ["{1,2}"]}', 400, 'BAD_USER_INPUT'],
    ['a quote', '{"ids": ["1\\""]}', 400, 'BAD_USER_INPUT'],
    ['one id too many', tooMany, 400, 'BAD_USER_INPUT'],
    ['a huge body', JSON.stringify({ ids: ['1'], pad: 'x'.repeat(100_000) }), 413, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s with a JSON error and answers the next request', async (_case, body, status, code) => {
    const res = await lookup(body);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect((await lookup('{"ids":["1"]}')).status).toBe(200);
  });
});

describe('query depth', () => {
  it('refuses a query nested deeper than GRAPHQL_MAX_DEPTH', async () => {
    const shallow = await startTestGateway('depth', { GRAPHQL_MAX_DEPTH: '3' });
    try {
      const res = await fetch(`${shallow.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${shallow.client('deep').token}` },
        body: JSON.stringify({ query: '{ myPayments { edges { node { id } } } }' }),
      });
      expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'QUERY_TOO_COMPLEX' } }] });
    } finally {
      await shallow.stop();
    }
  });
});

describe('rate limit', () => {
  it('refuses createPayment beyond the per-user limit with RATE_LIMITED', async () => {
    // A write costs 2 points: 6 points a minute is 3 payments.
    const limited = await startTestGateway('ratelimit', { RATE_LIMIT_PER_MINUTE: '6' });
    try {
      const c = new GatewayClient(limited.url, limited.client('speedy').token);
      const results = [];
      for (let i = 0; i < 4; i++)
        results.push(await c.request(CreatePayment, { input: { amount: 1, currency: 'USD' } }));
      expect(results.slice(0, 3).every((r) => r.data?.createPayment.status === 'CREATED')).toBe(true);
      expect(results[3]!.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await limited.stop();
    }
  });
});
