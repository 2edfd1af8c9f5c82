import { CreatePayment, MyPayments } from '../../client/operations';
import { AdaptiveLimit } from '../../gateway/src/adaptive-limit';
import { Admission, overloadOf, type AdmissionLimits, type Overload } from '../../gateway/src/admission';
import { PipelinePace } from '../../gateway/src/pipeline-pace';
import { scrape } from '../../common/prometheus-text';
import { eventually, testKafka } from '../support/infra';
import { ADMISSION_OFF, CALM, countRows, startTestGateway, type TestGateway } from './harness';

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

const CREATE_DOCUMENT = 'mutation { createPayment(input: { amount: 1, currency: "EUR" }) { id } }';

/** Bodies that must reach Apollo (and its usual answer) even while payments are refused. */
const HOSTILE_UNDER_OVERLOAD: Array<[unknown, string]> = [
  [{ query: 'mutation { createPayment(' }, 'GRAPHQL_PARSE_FAILED'],
  [{ query: 'mutation { createPayment\u0000\u0007 }' }, 'GRAPHQL_PARSE_FAILED'],
  [{ query: 'mutation { createPayment(input: "\ud800") { id } }' }, 'GRAPHQL_PARSE_FAILED'],
  [{ query: `mutation { createPayment { ${'id '.repeat(5000)} } }` }, 'GRAPHQL_VALIDATION_FAILED'],
  [{ query: CREATE_DOCUMENT, operationName: 'Other' }, 'BAD_USER_INPUT'],
];

interface GraphQLBody {
  errors?: Array<{ extensions?: { code?: string } }>;
}

const graphqlPost = async (url: string, token: string | undefined, body: unknown) => {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: async () => (await res.json()) as GraphQLBody };
};

describe('admission with a concurrency limit', () => {
  it('raises the limit after calls were refused at it while those admitted were on target', () => {
    let clock = 0;
    const limit = new AdaptiveLimit({ targetMs: 100, initial: 2, min: 1, max: 10, windowMs: 250, now: () => clock });
    const admission = new Admission(() => CALM, LIMITS, limit);
    const [a, b] = [admission.admit(), admission.admit()];
    expect(() => admission.admit()).toThrow(/at capacity/);
    clock = 50;
    a(true);
    b(true);
    clock = 300;
    admission.admit()(false); // the first call to end after the window closes it
    expect(limit.limit).toBe(3);
  });
});

describe('admission with a slow start', () => {
  it('refuses with signal pace past what the pipeline has shown it can finish, and admits more as it finishes', () => {
    let clock = 0;
    const pace = new PipelinePace(3, 2, () => clock);
    const refusals: Overload[] = [];
    const admission = new Admission(
      () => CALM,
      LIMITS,
      undefined,
      (o) => void refusals.push(o),
      pace,
    );
    for (let i = 0; i < 3; i++) admission.admit();
    expect(() => admission.admit()).toThrow(/at capacity/);
    expect(refusals).toEqual([{ signal: 'pace', value: 3, limit: 3 }]);
    for (let i = 0; i < 10; i++) pace.noteFinished(); // 10 finished in second 0: 2 a second over 5 s
    clock = 1000;
    for (let i = 0; i < 4; i++) admission.admit();
    expect(() => admission.admit()).toThrow(/at capacity/);
    expect(refusals.at(-1)).toEqual({ signal: 'pace', value: 4, limit: 4 });
  });

  it('lets the pace grow only by a fifth once another measure has refused a payment', () => {
    let clock = 0;
    let readings = CALM;
    const pace = new PipelinePace(1, 2, () => clock);
    const admission = new Admission(
      () => readings,
      LIMITS,
      undefined,
      () => undefined,
      pace,
    );
    for (let i = 0; i < 50; i++) pace.noteFinished(); // 10 a second over 5 s
    for (let i = 0; i < 20; i++) pace.noteAccepted(); // as if let in last second
    clock = 1000;
    expect(pace.cap).toBe(20);
    readings = { ...CALM, eventLoopDelayMs: LIMITS.eventLoopDelayMs + 1 };
    expect(() => admission.admit()).toThrow(/at capacity/);
    readings = CALM;
    expect(pace.cap).toBe(12);
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
      // The backlog is counted in seconds of the best pace sampled. Samples of 100 ms caught the
      // arrivals in bursts, a pace two to three times the real one, and a loaded CI machine then
      // took over 20 s to build 3 s of backlog; whole seconds measure the pace the calls make.
      ADMISSION_SAMPLE_MS: '1000',
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
    // Refused before Apollo runs: HTTP says so too.
    expect(graphql.status).toBe(429);
    expect(await countRows(t)).toEqual(before);
    // Reads are not refused: they add no work to the pipeline.
    expect((await t.client('ada').data(MyPayments, {})).myPayments.totalCount).toBe(before.payments);

    // Under overload, what is not a valid createPayment by a valid caller is answered as usual.
    for (const [body, code] of HOSTILE_UNDER_OVERLOAD) {
      const res = await graphqlPost(t.url, t.client('ada').token, body);
      expect([res.status < 500, (await res.json()).errors?.[0]?.extensions?.code]).toEqual([true, code]);
    }
    const anonymous = await graphqlPost(t.url, undefined, { query: CREATE_DOCUMENT });
    expect(anonymous.status).toBe(401);
    expect(await countRows(t)).toEqual(before);

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

/**
 * A target no real call can meet (1 ms): every window of calls halves the limit down to its floor
 * (16), and a burst larger than that is partly refused, with nothing written for the refused.
 */
describe('a gateway holding createPayment to a latency target', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('admission-concurrency', {
      ...ADMISSION_OFF,
      ADMISSION_TARGET_LATENCY_MS: '1',
      RATE_LIMIT_PER_MINUTE: '0',
    });
  });
  afterAll(() => t?.stop());

  const create = (key: string) =>
    t.client('bob').request(CreatePayment, { input: { amount: 1, currency: 'EUR', idempotencyKey: key } });

  it('lowers how many may be in flight, and refuses a burst beyond it at once', async () => {
    let n = 0;
    await eventually('the limit at its floor', async () => {
      await create(`slow-${n++}`);
      const limit = (await scrape(t.url)).matching('gateway_admission_concurrency_limit')[0]?.value;
      return limit === 16 ? true : undefined;
    });
    const before = await countRows(t);
    const { accepted, refused } = await eventually('a burst partly refused', async () => {
      const answers = await Promise.all(Array.from({ length: 80 }, () => create(`burst-${n++}`)));
      const codes = answers.map((a) => a.errors?.[0]?.extensions?.code ?? 'OK');
      const tally = {
        accepted: codes.filter((c) => c === 'OK').length,
        refused: codes.filter((c) => c === 'RESOURCE_EXHAUSTED').length,
      };
      expect(tally.accepted + tally.refused).toBe(80);
      return tally.refused > 0 ? tally : undefined;
    });
    expect(accepted).toBeGreaterThan(0);
    // Each burst before the one that was refused was accepted whole; the refused one wrote only its accepted.
    const after = await countRows(t);
    expect(after.payments - before.payments).toBe(n - before.payments - refused);
    expect((await scrape(t.url)).sum('gateway_admission_refusals_total', { signal: 'concurrency' })).toBe(refused);
  });
});
