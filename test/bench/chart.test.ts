import { escapeXml, renderChart, type ChartInput } from '../../bench/chart';
import type { RunSecond } from '../../bench/timeline';

const second = (s: number, over: Partial<RunSecond> = {}): RunSecond => ({
  second: s,
  offered: 100,
  accepted: 90,
  refused: 10,
  errors: 0,
  createPaymentMs: { p50: 8 + s, p99: 40 + 5 * s },
  completed: s === 0 ? null : 85,
  ...over,
});

const run = (timeline: RunSecond[], over: Partial<ChartInput> = {}): ChartInput => ({
  at: '2026-11-26T18:52:04.992Z',
  cpuMsPerPayment: 4.83,
  settings: { api: 'graphql', rate: 100, durationS: 3, subscribers: 20, users: 10, delays: '0.5-5 s' },
  timeline,
  ...over,
});

const withPush = (s: number): RunSecond => second(s, { push: { pushes: 30, p50Ms: 20, p99Ms: 90 + s } });

/** Every element closed in order, and no `<` or `&` outside markup and entities. */
function unbalanced(svg: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^<>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name!);
    else if (stack.pop() !== name) problems.push(`</${name}>`);
  }
  const text = svg.replace(/<[^<>]*>/g, '');
  if (/[<>]/.test(text)) problems.push('a raw < or > in text');
  if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) problems.push('a raw & in text');
  return [...problems, ...stack.map((open) => `<${open}> never closed`)];
}

const paths = (svg: string): string[] => [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);

describe('renderChart', () => {
  const svg = renderChart(run([0, 1, 2, 3, 4].map(withPush)));

  it('is one well-formed svg element', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(unbalanced(svg)).toEqual([]);
  });

  it('names every line in its legends', () => {
    for (const name of [
      'offered',
      'accepted',
      'refused',
      'completed end to end',
      'createPayment p50',
      'createPayment p99',
      'status push p99',
    ])
      expect(svg).toContain(`>${name}</text>`);
  });

  it('draws the latency targets as labelled dashed lines', () => {
    expect(svg).toContain('target: createPayment p99 50 ms');
    expect(svg).toContain('target: push p99 100 ms');
    expect(svg.match(/<line [^>]*stroke-dasharray="4 4"/g)).toHaveLength(2);
  });

  it('titles the run with its settings and CPU per payment', () => {
    expect(svg).toContain('createPayment over graphql, 100/s offered for 3 s, 20 subscribers');
    expect(svg).toContain('CPU 4.83 ms per payment');
    expect(renderChart(run([second(0)], { overload: { sustainedPerSecond: 33 } }))).toContain(
      'overload (3 × 33/s sustained)',
    );
  });

  it('marks where the load ended when the drain follows it', () => {
    expect(svg).toContain('>load ends</text>');
    expect(renderChart(run([0, 1, 2].map(withPush)))).not.toContain('load ends');
  });

  it('leaves a gap, not a zero, for a second without a value', () => {
    const gap = { p50: null, p99: null };
    // JSON turns the NaN of an empty second into null; both must read as missing.
    const timeline = [
      second(0),
      second(1, { createPaymentMs: gap }),
      second(2, { createPaymentMs: { p50: NaN, p99: NaN } }),
      second(3),
    ];
    const out = renderChart(run(timeline));
    expect(unbalanced(out)).toEqual([]);
    expect(out).not.toContain('NaN');
    const p99 = paths(out).filter((d) => d.split('M').length === 3);
    expect(p99.length).toBeGreaterThanOrEqual(2); // p50 and p99: two pieces each, split by the gap
  });

  it('draws a run without subscribers without a push line or target', () => {
    const out = renderChart(
      run(
        [0, 1, 2, 3].map((s) => second(s)),
        { settings: { api: 'rest', rate: 100, durationS: 3, subscribers: 0 } },
      ),
    );
    expect(unbalanced(out)).toEqual([]);
    expect(out).not.toContain('status push p99');
    expect(out).not.toContain('target: push p99');
    expect(out).toContain('target: createPayment p99 50 ms');
  });

  it('draws a report without a timeline as empty panels', () => {
    const out = renderChart(run([], { timeline: undefined }));
    expect(unbalanced(out)).toEqual([]);
    expect(out).toContain('no per-second data');
  });

  it('escapes text taken from the report', () => {
    const out = renderChart(
      run([second(0)], { at: 'a <b> & "c"', settings: { api: '<&', rate: 1, durationS: 1, subscribers: 0 } }),
    );
    expect(out).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(out).toContain('over &lt;&amp;,');
    expect(out).not.toContain('<&');
    expect(unbalanced(out)).toEqual([]);
    expect(escapeXml(`'`)).toBe('&apos;');
  });
});
