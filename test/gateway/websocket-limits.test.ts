import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { subscribe } from '../../client/gateway-client';
import { MyPayments, WatchMyPayments, WatchPayment } from '../../client/operations';
import { signToken } from '../../gateway/src/auth';
import { CLOSE_FORBIDDEN, CLOSE_TOO_MANY_SOCKETS } from '../../gateway/src/http/socket-sessions';
import { withTimeout } from '../../common/with-timeout';
import { eventually } from '../support/infra';
import { doublingFragments } from '../support/hostile-documents';
import { startTestGateway, type TestGateway } from './harness';

const SUBSCRIBES_PER_MINUTE = 6;
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('wslimits', {
    JWT_CLOCK_TOLERANCE_SECONDS: '1',
    WS_MAX_SOCKETS_PER_USER: '2',
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '2',
    WS_SUBSCRIBES_PER_MINUTE: String(SUBSCRIBES_PER_MINUTE),
    USER_STATUS_CACHE_MS: '200',
  });
});
afterAll(() => t?.stop());
const opened: Client[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((client) => Promise.resolve(client.dispose())));
});

interface Socket {
  client: Client;
  /** Resolves true once acknowledged, false if closed first. */
  admitted: Promise<boolean>;
  closed: Promise<{ code: number; reason: string }>;
}

function openSocket(token: string): Socket {
  let onConnected: () => void = () => undefined;
  let onClosed: (event: { code: number; reason: string }) => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${t.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    connectionParams: { authorization: `Bearer ${token}` },
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason });
      },
    },
  });
  opened.push(client);
  const admitted = Promise.race([connected.then(() => true), closed.then(() => false)]);
  return { client, admitted, closed };
}

const tokenFor = (userName: string, ttlSeconds?: number): string =>
  signToken(userName, { secret: t.secret }, { ttlSeconds });
const errorCodes = (errors: unknown[]): unknown[] =>
  errors
    .flatMap((e): unknown[] => (Array.isArray(e) ? e : [e]))
    .map((e) => (e as { extensions?: { code?: string } }).extensions?.code);

describe('WebSocket sessions', () => {
  it('are closed with 4403 when the token expires, not before', async () => {
    const token = tokenFor('short-lived', 2);
    const { exp } = jwt.decode(token) as { exp: number };
    const socket = openSocket(token);
    expect(await withTimeout(socket.admitted, 5000, 'acknowledgement')).toBe(true);
    const before = t.gateway.hub.subscriberCount;
    subscribe(socket.client, WatchMyPayments);
    await eventually('the subscription to be registered', () =>
      t.gateway.hub.subscriberCount > before ? true : undefined,
    );
    const closed = await withTimeout(socket.closed, 10_000, 'close at expiry');
    expect(closed).toEqual({ code: CLOSE_FORBIDDEN, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    await eventually('its subscription to be released', () =>
      t.gateway.hub.subscriberCount === before ? true : undefined,
    );
  });

  it('are closed with 4403 when their user is blocked, and only theirs', async () => {
    await t.client('to-block').request(MyPayments, {}); // a user row exists from the first operation on
    const [blocked, bystander] = [openSocket(tokenFor('to-block')), openSocket(tokenFor('bystander'))];
    expect(await withTimeout(Promise.all([blocked.admitted, bystander.admitted]), 5000, 'acknowledgements')).toEqual([
      true,
      true,
    ]);
    // Through the database, as another replica would: this one learns of it by its periodic check.
    await t.sql.query(`UPDATE gateway.users SET status = 'BLOCKED' WHERE user_name = 'to-block'`);
    expect(await withTimeout(blocked.closed, 10_000, 'close after the block')).toEqual({
      code: CLOSE_FORBIDDEN,
      reason: 'account blocked',
    });
    const stillOpen = await Promise.race([
      bystander.closed.then(() => false),
      new Promise<boolean>((r) => setImmediate(() => r(true))),
    ]);
    expect(stillOpen).toBe(true);
  });

  it('are capped per user (4429), and a closed socket frees its place', async () => {
    const token = tokenFor('socky');
    const [first, second] = [openSocket(token), openSocket(token)];
    expect(await withTimeout(Promise.all([first.admitted, second.admitted]), 5000, 'acknowledgements')).toEqual([
      true,
      true,
    ]);
    const third = openSocket(token);
    const refused = await withTimeout(third.closed, 5000, 'refusal');
    expect(refused.code).toBe(CLOSE_TOO_MANY_SOCKETS);
    expect(refused.reason).toMatch(/too many sockets for this user \(at most 2\)/);
    expect(await withTimeout(openSocket(tokenFor('someone-else')).admitted, 5000, 'another user’s socket')).toBe(true);

    await first.client.dispose();
    await withTimeout(first.closed, 5000, 'close');
    // The server releases the place when it sees the close, which may come just after the client does.
    await eventually(
      'a freed place to admit a new socket',
      async () => ((await openSocket(token).admitted) ? true : undefined),
      5000,
    );
  });

  it('cap subscriptions per socket with RATE_LIMITED', async () => {
    const socket = openSocket(tokenFor('subby'));
    expect(await withTimeout(socket.admitted, 5000, 'acknowledgement')).toBe(true);
    const open = [subscribe(socket.client, WatchMyPayments), subscribe(socket.client, WatchMyPayments)];
    const third = subscribe(socket.client, WatchMyPayments);
    await withTimeout(third.done, 5000, 'the third subscription’s refusal');
    expect(errorCodes(third.errors)).toEqual(['RATE_LIMITED']);
    expect(JSON.stringify(third.errors)).toMatch(/too many subscriptions on this socket \(at most 2\)/);
    expect(open.every((sub) => sub.errors.length === 0)).toBe(true);
  });

  it('measure a fragment once however often it is spread, before graphql validates the document', async () => {
    const socket = openSocket(tokenFor('chainy'));
    expect(await withTimeout(socket.admitted, 5000, 'acknowledgement')).toBe(true);
    // A spread of a missing fragment counts nothing: walked at every spread, this 1.6 KB subscribe
    // took 2^40 steps and held the gateway's event loop (every socket, request and consumer).
    const errors: unknown[] = [];
    const answered = new Promise<void>((resolve) => {
      socket.client.subscribe(
        { query: doublingFragments('subscription', 'Subscription', '...Missing', 40) },
        {
          next: () => undefined,
          error: (e) => {
            errors.push(e);
            resolve();
          },
          complete: resolve,
        },
      );
    });
    await withTimeout(answered, 10_000, 'the refusal');
    expect(errorCodes(errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(errors)).toMatch(/Unknown fragment \\"Missing\\"/);
  });

  it('refuse an operation id completed and subscribed again while it still starts (4409), and leak nothing', async () => {
    const liveSubscriptions = async (): Promise<number> => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      return Number(/^gateway_live_subscriptions{[^}]*} (\S+)$/m.exec(text)![1]);
    };
    const before = await liveSubscriptions();
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tokenFor('racer')}` } }));
    await new Promise((resolve) => ws.once('message', resolve));
    const subscribe = JSON.stringify({
      id: 'x',
      type: 'subscribe',
      payload: { query: 'subscription { myPaymentStatuses { status } }' },
    });
    // In one write, so the three arrive together: the first subscribe is still looking up its user
    // when the other two are read. graphql-ws alone ran both subscribes and never ended the first.
    const tcp = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    tcp.cork();
    ws.send(subscribe);
    ws.send(JSON.stringify({ id: 'x', type: 'complete' }));
    ws.send(subscribe);
    process.nextTick(() => tcp.uncork());
    expect(await withTimeout(closed, 5000, 'the close')).toBe(4409);
    await eventually('every subscription of the socket ended', async () =>
      (await liveSubscriptions()) === before ? true : undefined,
    );
  });

  it('limit subscribes per user per minute with RATE_LIMITED', async () => {
    const socket = openSocket(tokenFor('ratey'));
    expect(await withTimeout(socket.admitted, 5000, 'acknowledgement')).toBe(true);
    // Each asks for a payment that does not exist: refused at once (NOT_FOUND), so no cap is reached.
    for (let i = 0; i < SUBSCRIBES_PER_MINUTE; i++) {
      const sub = subscribe(socket.client, WatchPayment, { id: randomUUID() });
      await withTimeout(sub.done, 5000, 'an answer');
      expect(errorCodes(sub.errors)).toEqual(['NOT_FOUND']);
    }
    const limited = subscribe(socket.client, WatchPayment, { id: randomUUID() });
    await withTimeout(limited.done, 5000, 'an answer');
    expect(errorCodes(limited.errors)).toEqual(['RATE_LIMITED']);
  });
});
