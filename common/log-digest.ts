import type { Stoppable } from './lifecycle';
import type { Logger } from './logger';
import { outsideAnyTrace } from './tracing';

/** Ids a digest line names: enough to follow a few of them, few enough to keep the line short. */
export const DIGEST_SAMPLE_IDS = 5;

/** Seconds, not minutes: the digest line still says when an outage began and ended. */
export const DIGEST_WINDOW_MS = 10_000;

interface Window {
  fields: Record<string, string>;
  more: number;
  ids: string[];
  timer: NodeJS.Timeout;
}

/**
 * A warning that happens per payment, logged at most twice per `everyMs` and group instead of once
 * per payment. In an outage every payment in flight meets the same condition at once: the faults
 * suite measured 7,700 lines a second from one paymaster, 99 % of everything it printed, which
 * buries the lines that say what is wrong and costs a JSON line per payment. The first occurrence
 * of a window is logged at once and whole, as before; the others are counted, and the window's
 * end logs how many there were, with a few of their ids.
 */
export class LogDigest implements Stoppable {
  /** Open windows by group: the `fields` a line carries besides the id (a stage, say). */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly msg: string,
    /** The field that names one occurrence (`paymentId`); the digest line lists them as `${idField}s`. */
    private readonly idField: string,
    private readonly everyMs = DIGEST_WINDOW_MS,
  ) {}

  warn(id: string, fields: Record<string, string> = {}): void {
    const group = JSON.stringify(fields);
    const open = this.windows.get(group);
    if (open) {
      open.more += 1;
      if (open.ids.length < DIGEST_SAMPLE_IDS) open.ids.push(id);
      return;
    }
    this.logger.warn({ ...fields, [this.idField]: id }, this.msg);
    // The digest line speaks for many payments, so it carries none's trace (the first one's, else).
    const timer = outsideAnyTrace(() => setTimeout(() => this.close(group), this.everyMs));
    timer.unref();
    this.windows.set(group, { fields, more: 0, ids: [], timer });
  }

  /** Logs what the open windows counted; a clean stop must not drop the last seconds' counts. */
  stop(): Promise<void> {
    for (const group of [...this.windows.keys()]) this.close(group);
    return Promise.resolve();
  }

  private close(group: string): void {
    const window = this.windows.get(group);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(group);
    if (window.more === 0) return;
    this.logger.warn(
      { ...window.fields, more: window.more, [`${this.idField}s`]: window.ids, withinMs: this.everyMs },
      `${this.msg} (more like it)`,
    );
  }
}
