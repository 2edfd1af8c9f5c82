import { randomUUID } from 'node:crypto';
import { OpenApiValidator } from '../support/openapi-validator';
import { startTestGateway, type TestGateway } from './harness';

/**
 * The REST facade as a browser or a generated client meets it: every real answer (2xx and 4xx)
 * matches the served OpenAPI document, the HTTP conventions hold (201 + Location, a Bearer
 * challenge on 401, Retry-After on 429), and CORS opens up to the allow-list and nobody else.
 */
const APP = 'https://app.example.com';
const RATE_LIMIT = 20;
let t: TestGateway;
let api: OpenApiValidator;
beforeAll(async () => {
  t = await startTestGateway('rest', {
    CORS_ORIGINS: `${APP}, http://localhost:5173`,
    BODY_LIMIT_BYTES: '2048',
    RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
  });
  const served = await fetch(`${t.url}/api/openapi.json`);
  expect(served.status).toBe(200);
  api = new OpenApiValidator((await served.json()) as Record<string, unknown>);
});
afterAll(() => t?.stop());

const auth = (user: string) => ({
  authorization: `Bearer ${t.client(user).token!}`,
  'content-type': 'application/json',
});
const post = (user: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/api/payments`, {
    method: 'POST',
    headers: { ...auth(user), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const get = (path: string, headers: Record<string, string>) => fetch(`${t.url}${path}`, { headers });
const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 on the 2020-12 dialect, with a bearer JWT scheme and the Idempotency-Key header', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as {
      openapi: string;
      jsonSchemaDialect: string;
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, { post?: { parameters?: unknown[] } }>;
    };
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.paths['/api/payments']?.post?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
    );
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/payments', '/api/payments/{id}', '/api/payments/{id}/status']);
  });
});

describe('real answers match the document', () => {
  it('2xx: create (201 + Location), read it back through Location, its status, the list', async () => {
    const created = await post(
      'ada',
      { userName: 'ada', amount: 1250, currency: 'EUR' },
      { 'idempotency-key': 'order-1' },
    );
    expect(created.status).toBe(201);
    const { id } = (await api.check('POST', '/api/payments', created)) as { id: string };
    expect(created.headers.get('location')).toBe(`/api/payments/${id}`);
    expect(
      await api.check('GET', '/api/payments/{id}', await get(created.headers.get('location')!, auth('ada'))),
    ).toMatchObject({ id, amount: 1250 });
    expect(
      await api.check('GET', '/api/payments/{id}/status', await get(`/api/payments/${id}/status`, auth('ada'))),
    ).toMatchObject({ id });
    expect(await api.check('GET', '/api/payments', await get('/api/payments?first=5', auth('ada')))).toMatchObject({
      totalCount: 1,
    });
    // The same key again is the same payment, still 201 with its Location.
    const again = await post(
      'ada',
      { userName: 'ada', amount: 1250, currency: 'EUR' },
      { 'idempotency-key': 'order-1' },
    );
    expect(again.headers.get('location')).toBe(`/api/payments/${id}`);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers (expect.any, expect.stringMatching) are typed any
    expect(await api.check('POST', '/api/payments', again)).toEqual({ id, status: expect.any(String) });
  });

  it('400 bad input and a body that is not JSON', async () => {
    expect(
      errorCode(
        await api.check('POST', '/api/payments', await post('bob', { userName: 'bob', amount: -1, currency: 'EUR' })),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(errorCode(await api.check('POST', '/api/payments', await post('bob', '{"userName":')))).toBe('BAD_JSON');
    expect(errorCode(await api.check('GET', '/api/payments', await get('/api/payments?first=-3', auth('bob'))))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('401 with a Bearer challenge: no token, a malformed one, a forged one', async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic Ym9iOmJvYg==' },
      { authorization: 'Bearer not.a.jwt' },
    ];
    for (const headers of cases) {
      const res = await get('/api/payments', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="payments"');
      expect(errorCode(await api.check('GET', '/api/payments', res))).toBe('UNAUTHENTICATED');
    }
  });

  it("403 for another user's name, 404 for a payment that is not the caller's, 409 for a reused key", async () => {
    expect(
      errorCode(
        await api.check('POST', '/api/payments', await post('carol', { userName: 'dave', amount: 5, currency: 'USD' })),
      ),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(
        await api.check('GET', '/api/payments/{id}', await get(`/api/payments/${randomUUID()}`, auth('carol'))),
      ),
    ).toBe('NOT_FOUND');
    expect(
      errorCode(
        await api.check(
          'GET',
          '/api/payments/{id}/status',
          await get(`/api/payments/${randomUUID()}/status`, auth('carol')),
        ),
      ),
    ).toBe('NOT_FOUND');
    await post('carol', { userName: 'carol', amount: 5, currency: 'USD', idempotencyKey: 'k-409' });
    expect(
      errorCode(
        await api.check(
          'POST',
          '/api/payments',
          await post('carol', { userName: 'carol', amount: 6, currency: 'USD', idempotencyKey: 'k-409' }),
        ),
      ),
    ).toBe('CONFLICT');
  });

  it('413 for a body over BODY_LIMIT_BYTES', async () => {
    const res = await post('erin', { userName: 'erin', amount: 5, currency: 'USD', padding: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
    expect(errorCode(await api.check('POST', '/api/payments', res))).toBe('PAYLOAD_TOO_LARGE');
  });

  it('429 with Retry-After once a caller spends the per-minute budget', async () => {
    // The bucket refills a point every 60/RATE_LIMIT s, so on a busy machine the first RATE_LIMIT + 1
    // calls may not empty it; keep calling (bounded) until it answers 429.
    let res: Response | undefined;
    for (let i = 0; i <= 10 * RATE_LIMIT && res?.status !== 429; i++) res = await get('/api/payments', auth('greedy'));
    expect(res!.status).toBe(429);
    expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
    /* eslint-disable @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers (expect.any, expect.stringMatching) are typed any */
    expect(await api.check('GET', '/api/payments', res!)).toMatchObject({
      error: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) },
    });
    /* eslint-enable @typescript-eslint/no-unsafe-assignment */
  });
});

describe('GraphQL over HTTP', () => {
  it('answers 401 with the same Bearer challenge', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ myPayments { totalCount } }' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="payments"');
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });
});

describe('CORS', () => {
  const preflight = (path: string, origin: string) =>
    fetch(`${t.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });

  it.each(['/graphql', '/api/payments'])(
    'answers a preflight to %s from an allowed origin with 204 and what it may send',
    async (path) => {
      const res = await preflight(path, APP);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.split(/,\s*/)).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']),
      );
      expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expect(res.headers.get('vary')).toBe('Origin');
    },
  );

  it.each(['https://evil.example.com', `${APP}.evil.com`, 'null'])(
    'gives %s no CORS header, on a preflight or a request',
    async (origin) => {
      const answers = [await preflight('/graphql', origin), await get('/api/payments', { ...auth('frank'), origin })];
      for (const res of answers) {
        expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
        expect(res.headers.get('vary')).toBe('Origin');
      }
    },
  );

  it('echoes an allowed origin on real answers, success and error alike, exposing Location', async () => {
    const created = await post('frank', { userName: 'frank', amount: 5, currency: 'USD' }, { origin: APP });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(APP);
    expect(created.headers.get('access-control-expose-headers')).toContain('location');
    const refused = await get('/api/payments', { origin: 'http://localhost:5173' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const graphql = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { ...auth('frank'), origin: APP },
      body: JSON.stringify({ query: '{ myPayments { totalCount } }' }),
    });
    expect(graphql.status).toBe(200);
    expect(graphql.headers.get('access-control-allow-origin')).toBe(APP);
  });
});
