import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root';
import { payAndWatch } from '../../client/examples/pay-and-watch';
import { eventually } from '../support/infra';
import { startTestGateway, userIdOf, type TestGateway } from './harness';

/**
 * The README's TypeScript example is client/examples/pay-and-watch.ts word for word: `npm run
 * build` compiles it, and here it runs against a real gateway, its subscription fed by real
 * status events on Kafka.
 */
const EXAMPLE = 'client/examples/pay-and-watch.ts';
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('readme');
});
afterAll(() => t?.stop());

it('is in the README exactly as compiled', () => {
  const source = fs.readFileSync(path.join(PROJECT_ROOT, EXAMPLE), 'utf8');
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(`\`\`\`ts\n// ${EXAMPLE}\n${source}\`\`\``);
});

it('creates, reads and watches a payment to its end through the typed client', async () => {
  const run = payAndWatch(t.url, t.client('reader').token!);
  const paymentId = await eventually('the example to create its payment', async () => {
    const { rows } = await t.sql.query<{ id: string }>(
      "SELECT p.id FROM gateway.payments p JOIN gateway.users u ON u.id = p.user_id WHERE u.user_name = 'reader'",
    );
    return rows[0]?.id;
  });
  const userId = await userIdOf(t, 'reader');
  await t.emitStatus(paymentId, userId, 'PROCESSING');
  await t.emitStatus(paymentId, userId, 'COMPLETED');
  const { payment, statuses } = await run;
  expect(payment).toMatchObject({ id: paymentId, amount: 1250, currency: 'EUR', userName: 'reader' });
  expect(statuses.at(-1)).toBe('COMPLETED');
});
