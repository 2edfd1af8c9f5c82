import { startTestGateway, type TestGateway } from './harness';

/** EXPLORER turns the explorer off entirely, and production never hands out the demo token. */
const browser = { accept: 'text/html,application/xhtml+xml' };
let off: TestGateway;
let production: TestGateway;
beforeAll(async () => {
  [off, production] = await Promise.all([
    startTestGateway('explorer_off', { EXPLORER: 'off' }),
    startTestGateway('explorer_prod', { NODE_ENV: 'production', EXPLORER: 'on' }),
  ]);
});
afterAll(() => Promise.all([off?.stop(), production?.stop()]));

it('serves nothing of the explorer when EXPLORER=off, nor any landing page at /graphql', async () => {
  const page = await fetch(`${off.url}/explorer`, { headers: browser });
  expect(page.status).toBe(404);
  expect(await page.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  expect((await fetch(`${off.url}/explorer/assets/graphiql.js`)).status).toBe(404);
  expect((await fetch(`${off.url}/graphql`, { headers: browser })).headers.get('content-type')).not.toMatch(/html/);
});

it('serves the explorer without a demo token in production, where a user brings their own', async () => {
  const page = await fetch(`${production.url}/explorer`, { headers: browser });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('{"endpoint":"/graphql","demoToken":null,"demoUser":null}');
});
