import type { Stoppable } from './lifecycle';
import type { Logger } from './logger';
import { outsideAnyTrace } from './tracing';

/** Ids a digest line names: enough to follow a few of them, few enough to keep the line short. */
export const DIGEST_SAMPLE_IDS = 5;

/** Seconds, not minutes: the digest lines still say when an outage began and ended. */
export const DIGEST_WINDOW_MS = 10_000;

interface OpenWindow {
  group: Record<string, string>;
  others: number;
  sample: string[];
  openedAt: number;
  timer: NodeJS.Timeout;
}

/**
 * A warning that happens per payment, logged at most twice per window and group instead of once
 * per payment. In an outage every payment in flight meets the same condition at once: the faults
 * suite measured 7,700 lines a second from one paymaster, 99 % of everything it printed, which
 * buries the lines that say what is wrong and costs a JSON line per payment. The first occurrence
 * of a window is logged whole, so a lone one reads as it would without a digest; the others are
 * counted, and the window's end logs how many there were, with a few of their ids.
 */
export class LogDigest implements Stoppable {
  /** Keyed by the group's fields: their values must come from a fixed set (a stage), never from free text. */
  private readonly windows = new Map<string, OpenWindow>();
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly msg: string,
    /** The field that names one occurrence (`paymentId`); the digest line lists some as `sample${IdField}s`. */
    private readonly idField: string,
    private readonly everyMs = DIGEST_WINDOW_MS,
  ) {}

  /** `group` separates the counts; `detail` (an error's text) goes on the window's first line only. */
  warn(id: string, group: Record<string, string> = {}, detail: Record<string, unknown> = {}): void {
    const key = JSON.stringify(group);
    const open = this.windows.get(key);
    if (open) {
      open.others += 1;
      if (open.sample.length < DIGEST_SAMPLE_IDS) open.sample.push(id);
      return;
    }
    this.logger.warn({ ...group, ...detail, [this.idField]: id }, this.msg);
    // After the stop's flush nothing would log what a new window counts.
    if (this.stopped) return;
    // Outside the first payment's trace, which the timer would otherwise carry to the digest line.
    const timer = outsideAnyTrace(() => setTimeout(() => this.close(key), this.everyMs));
    timer.unref();
    this.windows.set(key, { group, others: 0, sample: [], openedAt: performance.now(), timer });
  }

  /** Logs what the open windows counted (a clean stop must not drop them); later warnings are logged one by one. */
  stop(): Promise<void> {
    this.stopped = true;
    for (const key of [...this.windows.keys()]) this.close(key);
    return Promise.resolve();
  }

  private close(key: string): void {
    const open = this.windows.get(key);
    if (!open) return;
    clearTimeout(open.timer);
    this.windows.delete(key);
    if (open.others === 0) return;
    const idsField = `sample${this.idField[0]!.toUpperCase()}${this.idField.slice(1)}s`;
    const overMs = Math.round(performance.now() - open.openedAt);
    this.logger.warn(
      { ...open.group, others: open.others, [idsField]: open.sample, overMs },
      `${this.msg} (and others)`,
    );
  }
}
