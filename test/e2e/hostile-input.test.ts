import net from 'node:net';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import jwt from 'jsonwebtoken';
import { CreatePayment, Deposit, GetCredit } from '../../client/operations';
import { waitFor } from '../../common/wait-for';
import { dlqOf, topicNames, TOPIC_KEYS, type TopicNames } from '../../common/kafka/topics';
import { collect, eventually } from '../support/infra';
import { RawGraphQLWs, type WsOutcome } from '../support/raw-graphql-ws';
import { doublingFragments } from '../support/hostile-documents';
import { awaitTerminal, startE2E, type E2ESystem } from './system';

/**
 * What a hostile signed-in user can send, through every door: GraphQL over HTTP and WebSocket,
 * REST, the internal API, and raw messages on every topic. Each case must get a clean answer
 * (its code, or its DLQ), write nothing, and leak nothing: no SQL, no stack, no other user's data.
 */
let e2e: E2ESystem;
let names: TopicNames;
let producer: Producer;
let dlqs: Awaited<ReturnType<typeof collect>>;
let victimPaymentId: string;
let victimCreditId: string;
const VICTIM = 'victim-7f3a';
const VICTIM_KEY = 'victim-key-7f3a';

beforeAll(async () => {
  e2e = await startE2E('hostile', {
    ownKafka: false,
    env: { PAYMASTER_DELAY_MIN_MS: '5', PAYMASTER_DELAY_MAX_MS: '20', SELF_DEPOSIT_MAX: '1000' },
  });
  names = topicNames(e2e.system.env.KAFKA_TOPIC_PREFIX);
  dlqs = await collect(TOPIC_KEYS.map((k) => dlqOf(names[k])));
  producer = new Kafka({ brokers: e2e.system.infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const victim = e2e.client(VICTIM);
  victimPaymentId = (
    await victim.data(CreatePayment, { input: { amount: 1, currency: 'EUR', idempotencyKey: VICTIM_KEY } })
  ).createPayment.id;
  await e2e
    .client('mallory')
    .data(CreatePayment, { input: { amount: 5, currency: 'EUR', idempotencyKey: 'mallory-1' } });
  victimCreditId = (await victim.data(Deposit, { amount: 10, currency: 'EUR', idempotencyKey: VICTIM_KEY })).deposit
    .operationId;
  // Settled before the table runs, so nothing moves behind the cases' row counts.
  await eventually(
    'the victim’s deposit applied',
    async () =>
      (await victim.data(GetCredit, { operationId: victimCreditId })).credit?.status === 'APPLIED' ? true : undefined,
    30_000,
  );
  await awaitTerminal(e2e.sql, [victimPaymentId], 30_000);
}, 180_000);
afterAll(async () => {
  await producer?.disconnect();
  await dlqs?.stop();
  await e2e?.stop();
}, 60_000);

interface Answer {
  status?: number;
  code?: unknown;
  text: string;
}

const token = () => e2e.client('mallory').token!;
const gateway = () => e2e.system.url('gateway');
const internal = () => e2e.system.internalUrl('gateway');

async function http(path: string, init: RequestInit & { base?: string } = {}): Promise<Answer> {
  const res = await fetch(`${init.base ?? gateway()}${path}`, init);
  const text = await res.text();
  let body: { errors?: Array<{ extensions?: { code?: unknown } }>; error?: { code?: unknown } } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // a body that is not JSON fails the JSON assertion below
  }
  return { status: res.status, code: body.errors?.[0]?.extensions?.code ?? body.error?.code, text };
}

/** Sends `request` as it is, bytes no HTTP client would send, and reads the answer until the server closes. */
async function raw(base: string, request: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    // A server that answers before it has read the whole request may reset it after the answer, which is read by then.
    socket.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNRESET' && chunks.length > 0 ? undefined : reject(e),
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  let code: unknown;
  try {
    code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    // not JSON: the expected code fails
  }
  return { status, code, text: body };
}

const post = (path: string, body: string, auth = token(), headers: Record<string, string> = {}) =>
  http(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}`, ...headers },
    body,
  });
const gql = (query: string, variables: Record<string, unknown> = {}, auth = token()) =>
  post('/graphql', JSON.stringify({ query, variables }), auth);
const rest = (path: string, init: RequestInit = {}) =>
  http(path, {
    ...init,
    headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json', ...init.headers },
  });
const service = (path: string, init: RequestInit & { base?: string } = {}) =>
  http(path, { base: internal(), ...init, headers: { 'x-service-token': e2e.serviceToken, ...init.headers } });

const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id } }';
const DEPOSIT = 'mutation($key: String!) { deposit(amount: 10, currency: EUR, idempotencyKey: $key) { operationId } }';
const cursor = (text: string) => Buffer.from(text).toString('base64url');
const wide = 'edges { node { id userName amount currency status reason createdAt updatedAt } }';

async function overWs(
  frame: (ws: RawGraphQLWs) => Promise<WsOutcome>,
  init: unknown = { authorization: `Bearer ${token()}` },
): Promise<Answer> {
  const { ws, ack } = await RawGraphQLWs.open(gateway(), init);
  try {
    const outcome = ack.kind === 'closed' ? ack : await frame(ws);
    if (outcome.kind === 'closed') return { status: outcome.code, text: outcome.reason };
    const errors = outcome.payload as
      Array<{ extensions?: { code?: unknown } }> | { errors?: Array<{ extensions?: { code?: unknown } }> };
    const first = Array.isArray(errors) ? errors[0] : errors.errors?.[0];
    return { code: first?.extensions?.code, text: outcome.raw };
  } finally {
    ws.close();
  }
}

/** Puts one raw message on a topic and resolves what its consumer's DLQ says about it. */
async function poison(topic: keyof TopicNames, value: string): Promise<Answer> {
  const key = `hostile-${Math.random().toString(36).slice(2)}`;
  await producer.send({ topic: names[topic], messages: [{ key, value }] });
  const parked = () => dlqs.messages.find((m) => m.key === key);
  return waitFor(`${key} in a DLQ`, parked, 30_000, 50).then(
    (m): Answer => ({ code: 'DLQ', text: m.headers['dlq-error'] ?? '' }),
    (): Answer => ({ code: 'NOT_PARKED', text: '' }),
  );
}

const operation = (fields: Record<string, unknown>) =>
  JSON.stringify({
    version: 1,
    kind: 'CREDIT',
    purpose: 'DEPOSIT',
    userId: '1',
    amount: 5,
    currency: 'EUR',
    paymentId: null,
    requestedAt: new Date().toISOString(),
    ...fields,
  });

type Case = [name: string, expected: { status?: number; code?: string }, run: () => Promise<Answer>];

const CASES: Case[] = [
  // GraphQL over HTTP
  [
    'createPayment key with NUL',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: '\u0000' } }),
  ],
  [
    'createPayment key with a lone surrogate',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: '\ud800' } }),
  ],
  [
    'createPayment key of 65 characters',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: 'k'.repeat(65) } }),
  ],
  [
    'createPayment key of 100 characters',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: 'k'.repeat(100) } }),
  ],
  [
    'createPayment key with CRLF',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: 'a\r\nx-injected: 1' } }),
  ],
  [
    'createPayment key with an emoji',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: 'pay-💸' } }),
  ],
  [
    'createPayment key as a number',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: 123 } }),
  ],
  [
    'createPayment amount 2^31',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 2 ** 31, currency: 'EUR' } }),
  ],
  [
    'createPayment amount 1e400',
    { code: 'BAD_USER_INPUT' },
    () =>
      post('/graphql', `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"amount":1e400,"currency":"EUR"}}}`),
  ],
  [
    'createPayment negative amount',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: -1, currency: 'EUR' } }),
  ],
  [
    'createPayment currency with NUL',
    { code: 'BAD_USER_INPUT' },
    () => gql(CREATE, { input: { amount: 1, currency: 'EUR\u0000' } }),
  ],
  [
    'createPayment reusing a key with another amount',
    { code: 'CONFLICT' },
    () => gql(CREATE, { input: { amount: 6, currency: 'EUR', idempotencyKey: 'mallory-1' } }),
  ],
  ['deposit key with NUL', { code: 'BAD_USER_INPUT' }, () => gql(DEPOSIT, { key: '\u0000' })],
  ['deposit key with a lone surrogate', { code: 'BAD_USER_INPUT' }, () => gql(DEPOSIT, { key: '\udfff' })],
  ['deposit key of 91 characters', { code: 'BAD_USER_INPUT' }, () => gql(DEPOSIT, { key: 'k'.repeat(91) })],
  [
    'deposit above SELF_DEPOSIT_MAX',
    { code: 'BAD_USER_INPUT' },
    () => gql('mutation { deposit(amount: 1001, currency: EUR, idempotencyKey: "big") { operationId } }'),
  ],
  [
    '50 aliased deposits of 1e9',
    { code: 'BAD_USER_INPUT' },
    () =>
      gql(
        `mutation { ${Array.from({ length: 50 }, (_, i) => `d${i}: deposit(amount: 1000000000, currency: EUR, idempotencyKey: "mint-${i}") { operationId }`).join(' ')} }`,
      ),
  ],
  [
    'creditAccount without the operator role',
    { code: 'FORBIDDEN' },
    () =>
      gql(
        'mutation { creditAccount(userName: "mallory", amount: 5, currency: EUR, idempotencyKey: "x") { operationId } }',
      ),
  ],
  [
    'creditAccount by an operator for a user named with NUL',
    { code: 'BAD_USER_INPUT' },
    () =>
      gql(
        'mutation($u: String!) { creditAccount(userName: $u, amount: 5, currency: EUR, idempotencyKey: "op-nul") { operationId } }',
        { u: 'a\u0000b' },
        e2e.operator('olga').token,
      ),
  ],
  [
    'creditAccount by an operator for a user named with a lone surrogate',
    { code: 'BAD_USER_INPUT' },
    () =>
      gql(
        'mutation($u: String!) { creditAccount(userName: $u, amount: 5, currency: EUR, idempotencyKey: "op-sur") { operationId } }',
        { u: '\ud800' },
        e2e.operator('olga').token,
      ),
  ],
  [
    'myPayments cursor with an out-of-range date',
    { code: 'BAD_USER_INPUT' },
    () =>
      gql('query($a: String) { myPayments(after: $a) { totalCount } }', {
        a: cursor(`275760-09-13T00:00:00.000Z|${victimPaymentId}`),
      }),
  ],
  [
    'myPayments cursor with a year-0 date',
    { code: 'BAD_USER_INPUT' },
    () =>
      gql('query($a: String) { myPayments(after: $a) { totalCount } }', {
        a: cursor(`+002024-13-45T00:00:00.000Z|${victimPaymentId}`),
      }),
  ],
  [
    'myPayments cursor of 10 KB',
    { code: 'BAD_USER_INPUT' },
    () => gql('query($a: String) { myPayments(after: $a) { totalCount } }', { a: 'A'.repeat(10_000) }),
  ],
  [
    'myPayments cursor with NUL',
    { code: 'BAD_USER_INPUT' },
    () => gql('query($a: String) { myPayments(after: $a) { totalCount } }', { a: cursor(`\u0000|\u0000`) }),
  ],
  [
    'myPayments first: $n = 200, wide',
    { code: 'QUERY_TOO_COMPLEX' },
    () => gql(`query($n: Int) { myPayments(first: $n) { ${wide} } }`, { n: 200 }),
  ],
  [
    'myPayments default first, aliased 3 times',
    { code: 'QUERY_TOO_COMPLEX' },
    () => gql(`{ a: myPayments { ${wide} } b: myPayments { ${wide} } c: myPayments { ${wide} } }`),
  ],
  ['myPayments first: 1e6', { code: 'QUERY_TOO_COMPLEX' }, () => gql(`{ myPayments(first: 1000000) { ${wide} } }`)],
  [
    'myLedger cursor with a lone surrogate',
    { code: 'BAD_USER_INPUT' },
    () => gql('query($a: String) { myLedger(after: $a) { pageInfo { hasNextPage } } }', { a: '\ud800' }),
  ],
  [
    'credit with a NUL operation id',
    { status: 200 },
    () => gql('query($id: ID!) { credit(operationId: $id) { status } }', { id: 'deposit:\u0000' }),
  ],
  [
    'credit of another user',
    { status: 200 },
    () => gql('query($id: ID!) { credit(operationId: $id) { amount status } }', { id: victimCreditId }),
  ],
  [
    'payment of another user',
    { status: 200 },
    () => gql('query($id: ID!) { payment(id: $id) { id amount } }', { id: victimPaymentId }),
  ],
  [
    'a 200 KB body',
    { status: 413 },
    () => post('/graphql', JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(200_000) })),
  ],
  [
    'a batched request',
    { status: 400 },
    () => post('/graphql', JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])),
  ],
  ['a body of JSON null', { status: 400 }, () => post('/graphql', 'null')],
  ['an unknown field', { code: 'GRAPHQL_VALIDATION_FAILED' }, () => gql('{ users { id } }')],
  [
    'an alg:none token',
    { code: 'UNAUTHENTICATED' },
    () => gql('{ myAccounts { balance } }', {}, `${cursor('{"alg":"none"}')}.${cursor(`{"sub":"${VICTIM}"}`)}.`),
  ],
  [
    'a token without exp',
    { code: 'UNAUTHENTICATED' },
    () => gql('{ myAccounts { balance } }', {}, jwt.sign({}, e2e.jwtSecret, { subject: 'mallory' })),
  ],
  [
    'a token living longer than the cap',
    { code: 'UNAUTHENTICATED' },
    () => gql('{ myAccounts { balance } }', {}, jwt.sign({}, e2e.jwtSecret, { subject: 'mallory', expiresIn: '30d' })),
  ],
  [
    'a token with roles that are not a list',
    { code: 'UNAUTHENTICATED' },
    () =>
      gql(
        '{ myAccounts { balance } }',
        {},
        jwt.sign({ roles: 'operator' }, e2e.jwtSecret, { subject: 'mallory', expiresIn: '1m' }),
      ),
  ],
  [
    'a token signed with another secret',
    { code: 'UNAUTHENTICATED' },
    () => gql('{ myAccounts { balance } }', {}, jwt.sign({}, 'x'.repeat(40), { subject: VICTIM, expiresIn: '1m' })),
  ],
  // GraphQL over WebSocket
  [
    'WebSocket without a token',
    { status: 4401 },
    () => overWs(() => Promise.resolve({ kind: 'closed', code: 0, reason: '' }), {}),
  ],
  [
    'WebSocket with an expired token',
    { status: 4401 },
    () =>
      overWs(() => Promise.resolve({ kind: 'closed', code: 0, reason: '' }), {
        authorization: `Bearer ${jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, e2e.jwtSecret, { subject: 'mallory' })}`,
      }),
  ],
  ['WebSocket frame that is not JSON', { status: 4400 }, () => overWs((ws) => ws.send('{not json'))],
  [
    'WebSocket subscribe to a NUL id',
    { code: 'NOT_FOUND' },
    () =>
      overWs((ws) =>
        ws.subscribe('1', 'subscription($id: ID!) { paymentStatus(id: $id) { status } }', { id: '\u0000' }),
      ),
  ],
  [
    'WebSocket subscribe to another user’s payment',
    { code: 'NOT_FOUND' },
    () =>
      overWs((ws) =>
        ws.subscribe('1', 'subscription($id: ID!) { paymentStatus(id: $id) { status } }', { id: victimPaymentId }),
      ),
  ],
  [
    'WebSocket createPayment with a lone-surrogate key',
    { code: 'BAD_USER_INPUT' },
    () =>
      overWs((ws) => ws.subscribe('1', CREATE, { input: { amount: 1, currency: 'EUR', idempotencyKey: '\ud800' } })),
  ],
  [
    'WebSocket subscription with 1,100 aliases',
    { code: 'QUERY_TOO_COMPLEX' },
    () =>
      overWs((ws) =>
        ws.subscribe(
          '1',
          `subscription { ${Array.from({ length: 1100 }, (_, i) => `a${i}: myPaymentStatuses { status }`).join(' ')} }`,
        ),
      ),
  ],
  [
    'WebSocket subscription of 25 aliased fields (each runs again for every event)',
    { code: 'QUERY_TOO_COMPLEX' },
    () =>
      overWs((ws) =>
        ws.subscribe(
          '1',
          `subscription { myPaymentStatuses { ${Array.from({ length: 25 }, (_, i) => `r${i}: reason`).join(' ')} } }`,
        ),
      ),
  ],
  [
    'WebSocket subscribe that does not parse',
    { code: 'GRAPHQL_PARSE_FAILED' },
    () => overWs((ws) => ws.subscribe('1', 'subscription {')),
  ],
  [
    'WebSocket subscribe of fragments doubling 40 times down to a missing one (2^40 spreads)',
    { code: 'GRAPHQL_VALIDATION_FAILED' },
    () => overWs((ws) => ws.subscribe('1', doublingFragments('subscription', 'Subscription', '...Missing', 40))),
  ],
  [
    'WebSocket frame over BODY_LIMIT_BYTES',
    { status: 1009 },
    () => overWs((ws) => ws.subscribe('1', `subscription { ${'myPaymentStatuses { status } '.repeat(4000)}}`)),
  ],
  [
    'GraphQL subscription over HTTP',
    { status: 400, code: 'BAD_REQUEST' },
    () => gql('subscription { myPaymentStatuses { paymentId status } }'),
  ],
  [
    'GraphQL persisted query whose hash does not match',
    { status: 400, code: 'BAD_REQUEST' },
    () =>
      post(
        '/graphql',
        JSON.stringify({
          query: '{ __typename }',
          extensions: { persistedQuery: { version: 1, sha256Hash: '\u0000' } },
        }),
      ),
  ],
  [
    'WebSocket subscribe nested 10,000 deep',
    { code: 'GRAPHQL_PARSE_FAILED' },
    () => overWs((ws) => ws.subscribe('1', `subscription { ${'a { '.repeat(10_000)}${'} '.repeat(10_000)}}`)),
  ],
  // Request targets that are not plain paths
  ['public request target //', { status: 404 }, () => http('//')],
  ['public request target //@/graphql', { status: 404 }, () => http('//@/graphql')],
  ['internal request target //', { status: 404 }, () => service('//')],
  [
    'money-storage request target //',
    { status: 404 },
    () =>
      http('//', { base: e2e.system.internalUrl('money-storage'), headers: { 'x-service-token': e2e.serviceToken } }),
  ],
  [
    'public request with a Content-Length that is not a number',
    { status: 400, code: 'BAD_REQUEST' },
    () => raw(gateway(), 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n'),
  ],
  [
    'public request with 20 KB of headers',
    { status: 431, code: 'HEADERS_TOO_LARGE' },
    () => raw(gateway(), `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`),
  ],
  [
    'public request body with 20 KB of chunk extensions',
    { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    () =>
      raw(
        gateway(),
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `1;${'e'.repeat(20_000)}\r\n{\r\n0\r\n\r\n`,
      ),
  ],
  [
    'money-storage request line that is not HTTP',
    { status: 400, code: 'BAD_REQUEST' },
    () => raw(e2e.system.internalUrl('money-storage'), 'GET\u0000 / HTTP/1.1\r\n\r\n'),
  ],
  // A target Node's parser lets through that is no URL: no route, on either port of the gateway.
  [
    'public request target that is no URL',
    { status: 404, code: 'NOT_FOUND' },
    () => raw(gateway(), 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
  ],
  [
    'internal request target that is no URL',
    { status: 404, code: 'NOT_FOUND' },
    () =>
      raw(
        internal(),
        `GET http://%zz/internal/users/1 HTTP/1.1\r\nHost: x\r\nX-Service-Token: ${e2e.serviceToken}\r\nConnection: close\r\n\r\n`,
      ),
  ],
  // REST
  [
    'REST key with NUL',
    { status: 400 },
    () =>
      rest('/api/payments', {
        method: 'POST',
        body: JSON.stringify({ userName: 'mallory', amount: 1, currency: 'EUR', idempotencyKey: '\u0000' }),
      }),
  ],
  [
    'REST key with a lone surrogate',
    { status: 400 },
    () =>
      rest('/api/payments', {
        method: 'POST',
        body: '{"userName":"mallory","amount":1,"currency":"EUR","idempotencyKey":"\\ud800"}',
      }),
  ],
  [
    'REST reusing a key with another amount',
    { status: 409 },
    () =>
      rest('/api/payments', {
        method: 'POST',
        body: JSON.stringify({ userName: 'mallory', amount: 7, currency: 'EUR', idempotencyKey: 'mallory-1' }),
      }),
  ],
  [
    'REST payment for another user',
    { status: 403 },
    () =>
      rest('/api/payments', { method: 'POST', body: JSON.stringify({ userName: VICTIM, amount: 1, currency: 'EUR' }) }),
  ],
  ['REST body that is an array', { status: 400 }, () => rest('/api/payments', { method: 'POST', body: '[1,2,3]' })],
  ['REST malformed %-escape in the path', { status: 400 }, () => rest('/api/payments/%E0')],
  [
    'REST cursor with an out-of-range date',
    { status: 400 },
    () => rest(`/api/payments?after=${cursor(`275760-09-13T00:00:00.000Z|${victimPaymentId}`)}`),
  ],
  ['REST first=-1', { status: 400 }, () => rest('/api/payments?first=-1')],
  ['REST first=1e309', { status: 400 }, () => rest('/api/payments?first=1e309')],
  ['REST another user’s payment', { status: 404 }, () => rest(`/api/payments/${victimPaymentId}`)],
  // The internal API
  ['internal lone % in the path', { status: 400 }, () => service('/internal/users/%')],
  ['internal user id above int8', { status: 400 }, () => service('/internal/users/9223372036854775808')],
  [
    'internal unknown status',
    { status: 400 },
    () => service('/internal/users/1/status', { method: 'PUT', body: '{"status":"ADMIN"}' }),
  ],
  ['internal without the service token', { status: 401 }, () => http('/internal/users/1', { base: internal() })],
  [
    'internal API on the public port, with the token',
    { status: 404 },
    () => service('/internal/users/1', { method: 'PUT', body: '{"status":"BLOCKED"}', base: gateway() }),
  ],
  [
    'money-storage ledger with a lone % in the path',
    { status: 400 },
    () =>
      http('/internal/ledger/%', {
        base: e2e.system.internalUrl('money-storage'),
        headers: { 'x-service-token': e2e.serviceToken },
      }),
  ],
  [
    'money-storage internal API on its health port',
    { status: 404 },
    () =>
      http('/internal/accounts/1', {
        base: e2e.system.url('money-storage'),
        headers: { 'x-service-token': e2e.serviceToken },
      }),
  ],
  [
    'money-storage ledger page of 10^6',
    { status: 400 },
    () =>
      http('/internal/ledger/1?first=1000000', {
        base: e2e.system.internalUrl('money-storage'),
        headers: { 'x-service-token': e2e.serviceToken },
      }),
  ],
  // Raw messages on every topic
  [
    'money-operations id with NUL',
    { code: 'DLQ' },
    () => poison('moneyOperations', operation({ operationId: 'deposit:\u0000' })),
  ],
  [
    'money-operations id with a lone surrogate',
    { code: 'DLQ' },
    () => poison('moneyOperations', operation({ operationId: 'deposit:\ud800' })),
  ],
  [
    'money-operations id of 10 KB',
    { code: 'DLQ' },
    () => poison('moneyOperations', operation({ operationId: `deposit:${'x'.repeat(10_000)}` })),
  ],
  [
    'money-operations userId above int8',
    { code: 'DLQ' },
    () => poison('moneyOperations', operation({ operationId: 'deposit:big-user', userId: '9223372036854775808' })),
  ],
  [
    'payments with a NUL payment id',
    { code: 'DLQ' },
    () =>
      poison(
        'payments',
        JSON.stringify({
          version: 1,
          type: 'PAYMENT_REQUESTED',
          paymentId: '\u0000',
          userId: '1',
          amount: 1,
          currency: 'EUR',
          createdAt: new Date().toISOString(),
        }),
      ),
  ],
  [
    'status-payments with wrong types',
    { code: 'DLQ' },
    () =>
      poison(
        'statusPayments',
        JSON.stringify({
          version: 1,
          type: 'PAYMENT_STATUS_CHANGED',
          paymentId: victimPaymentId,
          userId: 1,
          status: 'COMPLETED',
          reason: null,
          seq: 'x',
          at: 'now',
        }),
      ),
  ],
  [
    'money-operation-results with wrong types',
    { code: 'DLQ' },
    () => poison('moneyOperationResults', JSON.stringify({ version: 1, operationId: 5, outcome: 'APPLIED' })),
  ],
];

const LEAKS = /\bselect\b|\binsert\b|\bupdate\b|jsonb|gateway\.|money\.|params:|\n\s+at |node_modules|\.js:\d+/i;

async function counts(): Promise<Record<string, number>> {
  const { rows } = await e2e.sql.query<Record<string, number>>(`SELECT
    (SELECT count(*)::int FROM gateway.payments) AS payments, (SELECT count(*)::int FROM gateway.outbox) AS outbox,
    (SELECT count(*)::int FROM gateway.deposits) AS deposits, (SELECT count(*)::int FROM money.processed_operations) AS operations,
    (SELECT count(*)::int FROM money.ledger_entries) AS entries, (SELECT max(status_seq)::int FROM gateway.payments) AS seq`);
  return rows[0]!;
}

it(`has at least 40 cases (${CASES.length})`, () => expect(CASES.length).toBeGreaterThanOrEqual(40));

it.each(CASES)('%s: a clean answer, nothing written, nothing leaked', async (_name, expected, run) => {
  const before = await counts();
  const answer = await run();
  if (expected.status !== undefined) expect(answer.status).toBe(expected.status);
  if (expected.code !== undefined) expect(answer.code).toBe(expected.code);
  expect(answer.text).not.toMatch(LEAKS);
  expect(answer.text).not.toContain(VICTIM);
  expect(answer.text).not.toContain(VICTIM_KEY);
  expect(await counts()).toEqual(before);
});
