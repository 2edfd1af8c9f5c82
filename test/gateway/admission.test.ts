import { CreatePayment, MyPayments } from '../../client/operations';
import { overloadOf, type AdmissionLimits, type LoadReadings } from '../../gateway/src/admission';
import { scrape } from '../support/prometheus-text';
import { eventually, testKafka } from '../support/infra';
import { ADMISSION_OFF, countRows, startTestGateway, type TestGateway } from './harness';

const CALM: LoadReadings = { eventLoopDelayMs: 5, writeQueueWaitMs: 0, outboxBacklog: 0, paymentsBacklogSeconds: 1 };
const LIMITS: AdmissionLimits = {
  eventLoopDelayMs: 500,
  writeQueueWaitMs: 200,
  outboxBacklog: 20_000,
  paymentsBacklogSeconds: 60,
};

describe('the admission rule', () => {
  it.each([
    ['eventLoopDelayMs', 501],
    ['writeQueueWaitMs', 250],
    ['outboxBacklog', 20_001],
    ['paymentsBacklogSeconds', 61],
  ] as const)('refuses when %s is over its limit', (signal, value) => {
    expect(overloadOf({ ...CALM, [signal]: value }, LIMITS)).toEqual({ signal, value, limit: LIMITS[signal] });
  });

  it('admits at the limit, when calm, and ignores a reading whose limit is 0', () => {
    expect(overloadOf(CALM, LIMITS)).toBeUndefined();
    expect(overloadOf({ ...CALM, writeQueueWaitMs: 200 }, LIMITS)).toBeUndefined();
    expect(
      overloadOf(
        { ...CALM, outboxBacklog: 1e9, eventLoopDelayMs: 1e9 },
        { ...LIMITS, outboxBacklog: 0, eventLoopDelayMs: 0 },
      ),
    ).toBeUndefined();
  });
});

/**
 * A gateway with no paymaster behind it: every payment it accepts stays in the paymaster group's
 * lag, so the backlog reading grows with each one, exactly and without depending on the machine.
 */
describe('a gateway whose pipeline is behind', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('admission', {
      ...ADMISSION_OFF,
      ADMISSION_MAX_BACKLOG_SECONDS: '3',
      ADMISSION_SAMPLE_MS: '100',
    });
  });
  afterAll(() => t?.stop());

  const restCreate = (key: string) =>
    fetch(`${t.url}/api/payments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.client('ada').token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ userName: 'ada', amount: 100, currency: 'EUR' }),
    });

  it('answers new payments at once with 429 / RESOURCE_EXHAUSTED and Retry-After, writes nothing, and admits again once the pipeline catches up', async () => {
    // Accepted payments pile up unprocessed until the sampled backlog passes 3 s of the (idle) pace.
    let n = 0;
    const refused = await eventually('a refusal', async () => {
      const res = await restCreate(`pay-${n++}`);
      return res.status === 429 ? res : undefined;
    });
    expect(refused.headers.get('retry-after')).toBe('1');
    /* eslint-disable @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers are typed any */
    expect(await refused.json()).toEqual({
      error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('retry in 1 s'), retryAfterSeconds: 1 },
    });
    /* eslint-enable @typescript-eslint/no-unsafe-assignment */

    const before = await countRows(t);
    const graphql = await t
      .client('ada')
      .request(CreatePayment, { input: { amount: 100, currency: 'EUR', idempotencyKey: 'refused-key' } });
    expect(graphql.errors?.[0]?.extensions).toEqual({ code: 'RESOURCE_EXHAUSTED', retryAfterSeconds: 1 });
    expect(await countRows(t)).toEqual(before);
    // Reads are not refused: they add no work to the pipeline.
    expect((await t.client('ada').data(MyPayments, {})).myPayments.totalCount).toBe(before.payments);

    const metrics = await scrape(t.url);
    expect(
      metrics.matching('gateway_admission_refusals_total', { signal: 'paymentsBacklogSeconds' })[0]?.value,
    ).toBeGreaterThanOrEqual(2);

    // The paymaster catches up: its group commits the end of every partition.
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(t.names.payments);
      await admin.setOffsets({
        groupId: `${t.prefix}paymaster`,
        topic: t.names.payments,
        partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
      });
    } finally {
      await admin.disconnect();
    }
    const admitted = await eventually('admission again', async () => {
      const r = await t
        .client('ada')
        .request(CreatePayment, { input: { amount: 100, currency: 'EUR', idempotencyKey: 'refused-key' } });
      return r.data ? r.data : undefined;
    });
    expect(admitted.createPayment.status).toMatch(/^(CREATED|NEW)$/);
  });
});
