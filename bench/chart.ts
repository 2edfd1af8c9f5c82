import type { Measured, RunSecond } from './timeline';

/**
 * A bench run drawn as SVG text (no chart library): throughput per second above, latency per
 * second below on a log scale, sharing the x axis from the load's start to the end of the drain.
 */

/** What the chart reads of a bench report (bench/results/<timestamp>.json). */
export interface ChartInput {
  at?: string;
  cpuMsPerPayment: number;
  settings: { api: string; rate: number; durationS: number; subscribers: number; users?: number; delays?: string };
  overload?: { sustainedPerSecond: number };
  timeline?: RunSecond[];
}

interface Series {
  name: string;
  color: string;
  values: Measured[];
  dashed?: boolean;
}

interface Panel {
  top: number;
  bottom: number;
}

type Scale = (v: number) => number;

const WIDTH = 960;
const HEIGHT = 580;
const LEFT = 72;
const RIGHT = WIDTH - 200; // the legends sit right of the plots, so they never hide data
const THROUGHPUT: Panel = { top: 78, bottom: 288 };
const LATENCY: Panel = { top: 326, bottom: 530 };
const TARGETS = { createPaymentP99Ms: 50, pushP99Ms: 100 };
const COLORS = {
  offered: '#7f7f7f',
  accepted: '#1f77b4',
  refused: '#ff7f0e',
  errors: '#d62728',
  completed: '#2ca02c',
  p50: '#9ecae1',
  p99: '#08519c',
  push: '#9467bd',
};

export function renderChart(report: ChartInput): string {
  const timeline = report.timeline ?? [];
  const seconds = Math.max(1, timeline.length);
  const x: Scale = (s) => LEFT + (s / seconds) * (RIGHT - LEFT);
  const hasPush = timeline.some((t) => t.push !== undefined);
  const body = [
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    ...titleLines(report),
    ...throughputPanel(timeline, x),
    ...latencyPanel(timeline, x, hasPush),
    ...xAxis(seconds, x),
    ...loadEndMarker(report.settings.durationS, seconds, x),
    ...(timeline.length === 0
      ? [label(x(0.5), THROUGHPUT.top + 60, 'no per-second data in this report', 'middle', 14)]
      : []),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(titleOf(report))}</title>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** Text is from the report (and so from the command line): never markup. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

const isMeasured = (v: Measured | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function titleOf(r: ChartInput): string {
  const s = r.settings;
  const overload = r.overload ? `, overload (3 × ${r.overload.sustainedPerSecond}/s sustained)` : '';
  return `createPayment over ${s.api}, ${s.rate}/s offered for ${s.durationS} s, ${s.subscribers} subscribers${overload}`;
}

function titleLines(r: ChartInput): string[] {
  const details = [
    `CPU ${r.cpuMsPerPayment} ms per payment`,
    ...(r.settings.users === undefined ? [] : [`${r.settings.users} users`]),
    ...(r.settings.delays === undefined ? [] : [`paymaster delays ${r.settings.delays}`]),
    ...(r.at === undefined ? [] : [r.at]),
  ];
  return [
    label(16, 24, titleOf(r), 'start', 15, 'font-weight="bold"'),
    label(16, 44, details.join(' · '), 'start', 12, 'fill="#555"'),
  ];
}

function throughputPanel(timeline: RunSecond[], x: Scale): string[] {
  const series: Series[] = [
    { name: 'offered', color: COLORS.offered, values: timeline.map((t) => t.offered), dashed: true },
    { name: 'accepted', color: COLORS.accepted, values: timeline.map((t) => t.accepted) },
    { name: 'refused', color: COLORS.refused, values: timeline.map((t) => t.refused) },
    // Only when there were any: an always-zero line would just hide the axis.
    ...(timeline.some((t) => t.errors > 0)
      ? [{ name: 'errors', color: COLORS.errors, values: timeline.map((t) => t.errors) }]
      : []),
    { name: 'completed end to end', color: COLORS.completed, values: timeline.map((t) => t.completed) },
  ];
  const top = niceCeiling(Math.max(1, ...series.flatMap((s) => s.values.filter(isMeasured))));
  const y: Scale = (v) => THROUGHPUT.bottom - (v / top) * (THROUGHPUT.bottom - THROUGHPUT.top);
  const ticks = linearTicks(top).map((v) => ({ v, text: String(v) }));
  return [
    label(LEFT, THROUGHPUT.top - 10, 'Throughput per second', 'start', 13, 'font-weight="bold"'),
    ...yAxis(THROUGHPUT, ticks, y, 'per second'),
    ...series.map((s) => line(s, x, y)),
    ...legend(THROUGHPUT, series),
  ];
}

function latencyPanel(timeline: RunSecond[], x: Scale, hasPush: boolean): string[] {
  const series: Series[] = [
    { name: 'createPayment p50', color: COLORS.p50, values: timeline.map((t) => t.createPaymentMs.p50) },
    { name: 'createPayment p99', color: COLORS.p99, values: timeline.map((t) => t.createPaymentMs.p99) },
    ...(hasPush
      ? [{ name: 'status push p99', color: COLORS.push, values: timeline.map((t) => t.push?.p99Ms ?? null) }]
      : []),
  ];
  const targets = [
    { ms: TARGETS.createPaymentP99Ms, color: COLORS.p99, text: 'target: createPayment p99 50 ms', below: true },
    ...(hasPush ? [{ ms: TARGETS.pushP99Ms, color: COLORS.push, text: 'target: push p99 100 ms', below: false }] : []),
  ];
  const measured = series.flatMap((s) => s.values.filter(isMeasured)).concat(targets.map((t) => t.ms));
  const [lo, hi] = logDomain(measured);
  const y: Scale = (v) =>
    LATENCY.bottom -
    ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / Math.log10(hi / lo)) * (LATENCY.bottom - LATENCY.top);
  return [
    label(
      LEFT,
      LATENCY.top - 10,
      'Latency of the requests sent each second (log scale)',
      'start',
      13,
      'font-weight="bold"',
    ),
    ...yAxis(LATENCY, logTicks(lo, hi), y, 'latency'),
    ...targets.map((t) => referenceLine(y(t.ms), t.color, t.text, t.below)),
    ...series.map((s) => line(s, x, y)),
    ...legend(LATENCY, series),
  ];
}

/** A polyline broken wherever a second has no value: a gap, not a drop to zero. */
function line(s: Series, x: Scale, y: Scale): string {
  const parts: string[] = [];
  let penDown = false;
  s.values.forEach((v, second) => {
    if (!isMeasured(v)) {
      penDown = false;
      return;
    }
    const point = `${num(x(second + 0.5))},${num(y(v))}`;
    // `h0` after a move: with round caps, a second alone between gaps still shows as a dot.
    parts.push(penDown ? `L${point}` : `M${point}h0`);
    penDown = true;
  });
  if (parts.length === 0) return '';
  const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
  return `<path d="${parts.join('')}" fill="none" stroke="${s.color}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${dash}/>`;
}

function legend(panel: Panel, series: Series[]): string[] {
  return series.flatMap((s, i) => {
    const y = panel.top + 12 + i * 20;
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    return [
      `<line x1="${RIGHT + 16}" y1="${y}" x2="${RIGHT + 40}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${dash}/>`,
      label(RIGHT + 46, y + 4, s.name),
    ];
  });
}

function referenceLine(y: number, color: string, text: string, below: boolean): string {
  return [
    `<line x1="${LEFT}" y1="${num(y)}" x2="${RIGHT}" y2="${num(y)}" stroke="${color}" stroke-width="1" stroke-dasharray="4 4"/>`,
    // The white halo keeps the label readable where a data line crosses it.
    label(
      RIGHT - 4,
      y + (below ? 13 : -5),
      text,
      'end',
      11,
      `fill="${color}" stroke="#fff" stroke-width="3" paint-order="stroke"`,
    ),
  ].join('\n');
}

function yAxis(
  panel: Panel,
  ticks: Array<{ v: number; text: string; minor?: boolean }>,
  y: Scale,
  title: string,
): string[] {
  const middle = (panel.top + panel.bottom) / 2;
  return [
    `<rect x="${LEFT}" y="${panel.top}" width="${RIGHT - LEFT}" height="${panel.bottom - panel.top}" fill="none" stroke="#999"/>`,
    ...ticks.map((t) => {
      const at = num(y(t.v));
      const grid = `<line x1="${LEFT}" y1="${at}" x2="${RIGHT}" y2="${at}" stroke="${t.minor ? '#f3f3f3' : '#e3e3e3'}"/>`;
      return t.minor ? grid : `${grid}\n${label(LEFT - 6, Number(at) + 4, t.text, 'end')}`;
    }),
    label(18, middle, title, 'middle', 12, `transform="rotate(-90 18 ${num(middle)})"`),
  ];
}

function xAxis(seconds: number, x: Scale): string[] {
  const step = niceStep(seconds / 10);
  const ticks = Array.from({ length: Math.floor(seconds / step) + 1 }, (_, i) => i * step);
  return [
    ...ticks.flatMap((s) => {
      const at = num(x(s));
      return [THROUGHPUT, LATENCY].map(
        (p) => `<line x1="${at}" y1="${p.bottom}" x2="${at}" y2="${p.bottom + 5}" stroke="#999"/>`,
      );
    }),
    ...ticks.map((s) => label(x(s), LATENCY.bottom + 18, String(s), 'middle')),
    label((LEFT + RIGHT) / 2, LATENCY.bottom + 38, 'seconds since the load began', 'middle'),
  ];
}

/** The drain after the load is part of the run: a marker says where the offer stopped. */
function loadEndMarker(durationS: number, seconds: number, x: Scale): string[] {
  if (!(durationS > 0 && durationS < seconds)) return [];
  const at = num(x(durationS));
  return [
    `<line x1="${at}" y1="${THROUGHPUT.top}" x2="${at}" y2="${LATENCY.bottom}" stroke="#555" stroke-dasharray="2 3"/>`,
    label(x(durationS) + 4, THROUGHPUT.top + 12, 'load ends', 'start', 11, 'fill="#555"'),
  ];
}

function label(x: number, y: number, text: string, anchor = 'start', size = 12, attrs = ''): string {
  const extra = attrs ? ` ${attrs}` : '';
  return `<text x="${num(x)}" y="${num(y)}" text-anchor="${anchor}" font-size="${size}"${extra}>${escapeXml(text)}</text>`;
}

const num = (n: number): string => String(Math.round(n * 10) / 10);

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= raw)! * magnitude;
  return Math.max(1, step);
}

const niceCeiling = (max: number): number => Math.ceil(max / niceStep(max / 5)) * niceStep(max / 5);

function linearTicks(top: number): number[] {
  const step = niceStep(top / 5);
  return Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
}

/** Whole decades around every value, so the log axis starts and ends on a labelled tick. */
function logDomain(values: number[]): [number, number] {
  const positive = values.filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...positive))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  return [lo, hi > lo ? hi : lo * 10];
}

function logTicks(lo: number, hi: number): Array<{ v: number; text: string; minor?: boolean }> {
  const ticks: Array<{ v: number; text: string; minor?: boolean }> = [];
  for (let decade = lo; decade <= hi * 1.0001; decade *= 10) {
    ticks.push({ v: decade, text: msText(decade) });
    for (const m of [2, 5]) if (decade * m < hi) ticks.push({ v: decade * m, text: '', minor: true });
  }
  return ticks;
}

function msText(ms: number): string {
  const rounded = Number(ms.toPrecision(3));
  return rounded >= 1000 ? `${rounded / 1000} s` : `${rounded} ms`;
}
