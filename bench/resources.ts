import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcessUsage {
  peakRssMb: number;
  /** CPU seconds used while sampled, divided by wall seconds: 1.0 = one full core. */
  avgCores: number;
}

interface Sample {
  rssKb: number;
  ticks: number;
}

function read(pid: number): Sample | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssKb, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the process is gone (or restarted)
  }
}

/** Samples RSS and CPU of named processes once a second from /proc. */
export class ResourceSampler {
  private readonly first = new Map<string, { ticks: number; at: number }>();
  private readonly last = new Map<string, { ticks: number; at: number }>();
  private readonly peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    return this;
  }

  stop(): Record<string, ProcessUsage> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, ProcessUsage> = {};
    for (const [name, last] of this.last) {
      const first = this.first.get(name)!;
      const wall = (last.at - first.at) / 1000;
      out[name] = {
        peakRssMb: Math.round((this.peak.get(name) ?? 0) / 1024),
        avgCores: wall > 0 ? Math.round(((last.ticks - first.ticks) / TICKS_PER_SECOND / wall) * 100) / 100 : 0,
      };
    }
    return out;
  }

  private sample(): void {
    const now = Date.now();
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid) continue;
      const s = read(pid);
      if (!s) continue;
      if (!this.first.has(name)) this.first.set(name, { ticks: s.ticks, at: now });
      this.last.set(name, { ticks: s.ticks, at: now });
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, s.rssKb));
    }
  }
}
