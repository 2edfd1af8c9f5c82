/** One sample of Prometheus' text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = SAMPLE.exec(line);
    if (!match || line.startsWith('#')) return [];
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map((l) => [l[1]!, l[2]!]));
    return [{ name: match[1]!, labels, value: Number(match[3]) }];
  });
}

/** The samples of one scrape, queried by name and a subset of labels. */
export class Scrape {
  constructor(readonly samples: Sample[]) {}

  matching(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The sum over every matching series; 0 when none exists yet (a counter before its first event). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((n, s) => n + s.value, 0);
  }
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain'))
    throw new Error(`unexpected content-type ${res.headers.get('content-type')}`);
  return new Scrape(parseExposition(await res.text()));
}
