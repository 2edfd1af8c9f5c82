import jwt from 'jsonwebtoken';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CLOSE_UNAUTHORIZED } from '../../gateway/src/http/websocket';
import { startTestGateway, type TestGateway } from './harness';

const ISSUER = 'payments-test';
const AUDIENCE = 'gateway-test';
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('tokens', {
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_MAX_TTL_SECONDS: '3600',
    JWT_CLOCK_TOLERANCE_SECONDS: '5',
  });
});
afterAll(() => t?.stop());

const now = (): number => Math.floor(Date.now() / 1000);
const sign = (claims: object): string =>
  jwt.sign({ sub: 'tess', iss: ISSUER, aud: AUDIENCE, ...claims }, t.secret, { algorithm: 'HS256' });

/** HTTP statuses of one GraphQL query and one REST read with this token. */
async function statuses(token: string): Promise<[number, number]> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const graphql = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: '{ myPayments { totalCount } }' }),
  });
  const rest = await fetch(`${t.url}/api/payments`, { headers });
  return [graphql.status, rest.status];
}

describe('the token policy over GraphQL and REST', () => {
  it.each<[string, () => object]>([
    ['signed by the gateway’s own settings', () => ({ exp: now() + 600 })],
    ['expired 2 s ago, within the 5 s tolerance', () => ({ exp: now() - 2 })],
    ['with a lifetime of exactly the cap', () => ({ iat: now(), exp: now() + 3600 })],
  ])('accepts a token %s', async (_name, claims) => {
    expect(await statuses(sign(claims()))).toEqual([200, 200]);
  });

  it.each<[string, () => object]>([
    ['without exp', () => ({})],
    ['expired beyond the tolerance', () => ({ exp: now() - 30 })],
    ['expiring further ahead than JWT_MAX_TTL_SECONDS', () => ({ exp: now() + 7200 })],
    ['whose exp − iat exceeds the cap', () => ({ iat: now() - 7000, exp: now() + 60 })],
    ['from another issuer', () => ({ exp: now() + 600, iss: 'someone-else' })],
    ['for another audience', () => ({ exp: now() + 600, aud: 'another-service' })],
    ['without iss and aud', () => ({ exp: now() + 600, iss: undefined, aud: undefined })],
    ['with a malformed roles claim', () => ({ exp: now() + 600, roles: 'operator' })],
  ])('refuses a token %s with 401', async (_name, claims) => {
    expect(await statuses(sign(claims()))).toEqual([401, 401]);
  });

  it('refuses such a token on WebSocket too, with 4401', async () => {
    const closed = new Promise<number>((resolve) => {
      createClient({
        url: `${t.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => undefined,
        connectionParams: { authorization: `Bearer ${sign({})}` },
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
    });
    expect(await closed).toBe(CLOSE_UNAUTHORIZED);
  });
});
