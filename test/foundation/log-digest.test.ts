import { DIGEST_SAMPLE_IDS, DIGEST_WINDOW_MS, LogDigest } from '../../common/log-digest';
import { createLogger } from '../../common/logger';
import { waitFor } from '../../common/wait-for';
import { installTracing, inSpan, tracerOf, type Tracing } from '../../common/tracing';

/** A real pino logger whose lines are kept, parsed, as a log shipper would read them. */
function capture(windowMs?: number): { lines: Array<Record<string, unknown>>; digest: LogDigest } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('test', 'warn', {
    write: (line: string) => {
      expect(line.trimEnd()).not.toContain('\n'); // one line per entry, whatever it carries
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { lines, digest: new LogDigest(logger, 'still no answer', 'paymentId', windowMs) };
}

const ids = (n: number, prefix = 'p'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('a warning that happens per payment, digested', () => {
  let tracing: Tracing;
  beforeAll(() => (tracing = installTracing({ service: 'paymaster' })));
  afterAll(() => tracing.shutdown());
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('logs the first at once, whole, and the next 9,999 of its window as one line with a few ids', () => {
    const { lines, digest } = capture();
    for (const id of ids(10_000)) digest.warn(id, { stage: 'compensating' });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'still no answer', paymentId: 'p0', stage: 'compensating' }),
    ]);

    jest.advanceTimersByTime(DIGEST_WINDOW_MS);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      msg: 'still no answer (and others)',
      stage: 'compensating',
      others: 9_999,
      samplePaymentIds: ids(DIGEST_SAMPLE_IDS + 1).slice(1),
      overMs: DIGEST_WINDOW_MS,
    });
  });

  it('keeps groups apart: each stage has its own first line and its own count', () => {
    const { lines, digest } = capture();
    for (const id of ids(3, 's')) digest.warn(id, { stage: 'settling' });
    for (const id of ids(2, 'c')) digest.warn(id, { stage: 'compensating' });
    jest.advanceTimersByTime(DIGEST_WINDOW_MS);
    expect(lines.map((l) => [l.stage, l.paymentId ?? l.others])).toEqual([
      ['settling', 's0'],
      ['compensating', 'c0'],
      ['settling', 2],
      ['compensating', 1],
    ]);
  });

  it('adds no digest line to a lone warning, and logs the next one at once after its window', () => {
    const { lines, digest } = capture();
    digest.warn('a');
    jest.advanceTimersByTime(DIGEST_WINDOW_MS);
    expect(lines.map((l) => l.paymentId)).toEqual(['a']);
    digest.warn('b');
    expect(lines.map((l) => l.paymentId)).toEqual(['a', 'b']);
  });

  it('logs what it counted when stopped, over the time it counted, and each later warning by itself', async () => {
    const { lines, digest } = capture();
    for (const id of ids(4)) digest.warn(id);
    jest.advanceTimersByTime(2_000);
    await digest.stop();
    expect(lines.map((l) => [l.others, l.overMs])).toEqual([
      [undefined, undefined],
      [3, 2_000],
    ]);
    for (const id of ids(2, 'late')) digest.warn(id);
    jest.advanceTimersByTime(DIGEST_WINDOW_MS * 2);
    expect(lines.slice(2).map((l) => l.paymentId)).toEqual(['late0', 'late1']);
  });

  it("gives the first line its payment's trace, and the digest line no trace", async () => {
    jest.useRealTimers(); // a fake timer's callback runs in the test's context, wherever it was set
    const { lines, digest } = capture(20);
    await inSpan(tracerOf('paymaster'), 'payment', {}, () => {
      digest.warn('p1');
      digest.warn('p2');
      return Promise.resolve();
    });
    await waitFor('the digest line', () => (lines.length === 2 ? true : undefined), 5000, 5);
    expect(lines.map((l) => typeof l.trace_id)).toEqual(['string', 'undefined']);
  });

  it.each([
    ['control characters', 'gateway unreachable:\n\r\u0000\u001b[31m'],
    ['a lone surrogate', 'gateway answered \ud800'],
    ['a huge value', 'x'.repeat(100_000)],
  ])('puts a detail with %s on the first line only, and counts the others whatever theirs', (_, err) => {
    const { lines, digest } = capture();
    digest.warn('p1', {}, { err });
    digest.warn('p2', {}, { err: 'other' });
    digest.warn('p3', {}, { err });
    jest.advanceTimersByTime(DIGEST_WINDOW_MS);
    expect(lines.map((l) => [l.err === err, l.paymentId ?? l.others])).toEqual([
      [true, 'p1'],
      [false, 2],
    ]);
    expect(lines[1]).not.toHaveProperty('err');
  });
});
