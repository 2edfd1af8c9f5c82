import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcessUsage {
  peakRssMb: number;
  /** CPU seconds used while sampled, divided by wall seconds: 1.0 = one full core. */
  avgCores: number;
  /** CPU seconds used while sampled, by the process and its descendants. */
  cpuSeconds: number;
}

interface Sample {
  rssKb: number;
  ticks: number;
}

/** utime + stime of a process, and cutime + cstime of the children it has reaped, in ticks. */
function ownTicks(pid: number | string): { ticks: number; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
      ppid: Number(fields[1]),
    };
  } catch {
    return undefined; // the process is gone (or restarted)
  }
}

type ProcessTree = Map<number, Array<{ pid: number; ticks: number }>>;

/** Every process's children with their CPU, read from /proc once per sample. */
function processTree(): ProcessTree {
  const children: ProcessTree = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = ownTicks(entry);
    if (!p) continue;
    const list = children.get(p.ppid) ?? [];
    list.push({ pid: Number(entry), ticks: p.ticks });
    children.set(p.ppid, list);
  }
  return children;
}

/**
 * CPU of a process and all its descendants, living or exited: Postgres works in one backend
 * process per connection, and a backend that exits moves its time into the postmaster's cutime.
 */
function treeTicks(root: number, children: ProcessTree): number | undefined {
  const own = ownTicks(root);
  if (!own) return undefined;
  let total = own.ticks;
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      total += child.ticks;
      stack.push(child.pid);
    }
  }
  return total;
}

function read(pid: number, tree: ProcessTree): Sample | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const ticks = treeTicks(pid, tree);
    return ticks === undefined ? undefined : { rssKb, ticks };
  } catch {
    return undefined;
  }
}

/** Samples RSS (of the process itself) and CPU (with its descendants) of named processes once a second from /proc. */
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
        cpuSeconds: (last.ticks - first.ticks) / TICKS_PER_SECOND,
      };
    }
    return out;
  }

  private sample(): void {
    const now = Date.now();
    const tree = processTree();
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid) continue;
      const s = read(pid, tree);
      if (!s) continue;
      if (!this.first.has(name)) this.first.set(name, { ticks: s.ticks, at: now });
      this.last.set(name, { ticks: s.ticks, at: now });
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, s.rssKb));
    }
  }
}
