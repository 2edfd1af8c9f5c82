import http from 'node:http';
import jwt from 'jsonwebtoken';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CreditAccount, MyAccounts } from '../../client/operations';
import { ensureChromium } from '../support/chromium';
import { eventually } from '../support/infra';
import { startE2E, type E2ESystem } from './system';

/** The explorer on a running system: its files over plain HTTP, then GraphiQL in headless Chromium. */
let e2e: E2ESystem;
let browser: Browser;
beforeAll(async () => {
  const executablePath = ensureChromium();
  [e2e, browser] = await Promise.all([
    startE2E('explorer', { ownKafka: false, env: { PAYMASTER_DELAY_MIN_MS: '5', PAYMASTER_DELAY_MAX_MS: '20' } }),
    chromium.launch({ executablePath }),
  ]);
}, 400_000);
afterAll(() => Promise.all([browser?.close(), e2e?.stop()]), 60_000);

/** A raw request: fetch would resolve `..` in the path before it ever reached the gateway. */
const get = (path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET') =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(`${e2e.system.url('gateway')}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });

describe('explorer files', () => {
  it('serves the page to a browser at /graphql and /explorer, with a short-lived demo token and a self-only CSP', async () => {
    for (const path of ['/graphql', '/explorer']) {
      const page = await get(path, { accept: 'text/html,application/xhtml+xml' });
      expect(page).toMatchObject({
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      });
      expect(page.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self';/);
      expect(page.body).not.toMatch(/https?:\/\//); // nothing loaded from elsewhere
      const token = /"demoToken":"([^"]+)"/.exec(page.body)![1]!;
      const claims = jwt.verify(token, e2e.jwtSecret) as jwt.JwtPayload;
      expect(claims.sub).toBe('demo');
      expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    }
    expect((await get('/graphql', { accept: 'application/json' })).headers['content-type']).not.toMatch(/html/);
  });

  it('serves its files with their content types and cache headers, revalidated by ETag', async () => {
    const js = await get('/explorer/assets/graphiql.js');
    expect(js).toMatchObject({
      status: 200,
      headers: {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=86400',
        'x-content-type-options': 'nosniff',
      },
    });
    expect((await get('/explorer/assets/graphiql.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get('/explorer/assets/graphiql.js', { 'if-none-match': js.headers.etag })).status).toBe(304);
    expect(await get('/explorer/assets/graphiql.js', {}, 'HEAD')).toMatchObject({
      status: 200,
      headers: { 'content-length': js.headers['content-length'] },
      body: '',
    });
  });

  it.each([
    '/explorer/assets/../../package.json',
    '/explorer/assets/%2e%2e/%2e%2e/package.json',
    '/explorer/assets/..%2f..%2fpackage.json',
    '/explorer/assets/%2E%2E%5C%2E%2E%5Cpackage.json',
    '/explorer/assets/graphiql.js/../../../gateway/src/config.ts',
    '/explorer/nothing',
  ])('refuses %s with a JSON 404', async (path) => {
    const answer = await get(path);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers other methods with a JSON 405', async () => {
    const answer = await get('/explorer', {}, 'POST');
    expect(answer.status).toBe(405);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });
});

describe('explorer in a browser', () => {
  it('runs createPayment through GraphiQL and shows its paymentStatus subscription reach COMPLETED', async () => {
    await fund('demo', 10_000);
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    const offsite: string[] = [];
    const gateway = new URL(e2e.system.url('gateway')).origin;
    await context.route('**/*', (route) =>
      new URL(route.request().url()).origin === gateway
        ? route.continue()
        : (offsite.push(route.request().url()), route.abort()),
    );
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${gateway}/graphql`);
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 20_000 });
    expect(await page.textContent('.graphiql-editor-tool')).toContain('Bearer ');

    await run(page, 'Pay', 'mutation Pay { createPayment(input: { amount: 250, currency: EUR }) { id status } }');
    const id = await responseMatching(page, /"id": "([0-9a-f-]{36})"/);
    await run(page, 'Watch', `subscription Watch {\n  paymentStatus(id: "${id}") {\n    paymentId\n    status\n  }\n}`);
    await responseMatching(page, /"status": "COMPLETED"/);

    if (process.env.EXPLORER_SCREENSHOT) await page.screenshot({ path: process.env.EXPLORER_SCREENSHOT });
    expect({ offsite, problems }).toEqual({ offsite: [], problems: [] });
    await context.close();
  });
});

/** Money in by an operator's credit, through Kafka like any other: the payment must not overtake it. */
async function fund(userName: string, amount: number): Promise<void> {
  await e2e.client(userName).data(MyAccounts); // the user exists before the operator names them
  await e2e
    .operator('explorer-operator')
    .data(CreditAccount, { userName, amount, currency: 'EUR', idempotencyKey: `fund-${userName}` });
  await eventually(
    `${userName}'s funds`,
    async () =>
      (await e2e.client(userName).data(MyAccounts)).myAccounts.some((a) => a.balance !== '0') ? true : undefined,
    30_000,
  );
}

/**
 * Types `document` into a new tab and runs it. GraphiQL reads the operation name 100 ms after an
 * edit, so the run waits until the tab is titled with it: running sooner would send the old name.
 */
async function run(page: Page, operationName: string, document: string): Promise<void> {
  await page.click('.graphiql-tab-add');
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(document);
  await page.locator('.graphiql-tab-active').filter({ hasText: operationName }).waitFor({ timeout: 5_000 });
  await page.click('.graphiql-execute-button');
}

/** Waits (bounded) until the response pane shows `pattern`; resolves its first group. */
async function responseMatching(page: Page, pattern: RegExp): Promise<string> {
  const response = page.locator('.graphiql-response').filter({ hasText: pattern });
  await response.waitFor({ timeout: 30_000 });
  return pattern.exec((await response.textContent()) ?? '')?.[1] ?? '';
}
