import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Admin } from 'kafkajs';
import { consumerLag, type CommittingGroup } from '../../common/kafka/consumer-lag';
import { SharedPromise } from '../../common/shared-promise';
import { withTimeout } from '../../common/with-timeout';
import type { LoadReadings } from './admission';

/**
 * The best pace (payments/s) seen over the last `window` samples, of payments arriving on
 * `payments` or of the paymaster finishing them. The backlog is measured against the best rather
 * than the current pace: payments in flight are not yet committed, so when load starts the lag
 * grows before any finishes (arrivals set the pace), and when the paymaster restarts (finishing
 * none) or the load stops (arriving none), a handful of waiting payments is not an endless backlog.
 * Only a backlog that keeps growing for longer than the limit, at the pace the system has shown,
 * refuses new payments.
 */
class DrainPace {
  private last: { arrived: number; done: number; at: number } | undefined;
  private readonly rates: number[] = [];

  constructor(private readonly window: number) {}

  record(arrived: number, done: number, at: number): void {
    if (this.last && at > this.last.at) {
      const seconds = (at - this.last.at) / 1000;
      this.rates.push(Math.max(0, arrived - this.last.arrived, done - this.last.done) / seconds);
      if (this.rates.length > this.window) this.rates.shift();
    }
    this.last = { arrived, done, at };
  }

  /** At least one payment a second, so an idle system's first payments are not a backlog. */
  get best(): number {
    return Math.max(1, ...this.rates);
  }
}

export interface LoadSources {
  outboxBacklog(): Promise<number>;
  writeQueueWaitMs(): number;
  admin: Admin;
  /** The paymaster's group on `payments`: what it has not committed is not finished. */
  paymasterGroup: CommittingGroup;
}

/** How far back the best pace is remembered. */
const PACE_WINDOW_MS = 60_000;

/** A source slower than this keeps its last reading; samples never overlap, so a slow one only delays the next. */
const SOURCE_TIMEOUT_MS = 2000;

/**
 * Samples the system's load once per `everyMs` for admission (see admission.ts); the write
 * queue is read live. A reading whose source does not answer in time keeps its last value: an
 * outage is answered by the outage path (UNAVAILABLE), not by admission.
 */
export class LoadSignals {
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private readonly pace: DrainPace;
  private readonly sampled = { eventLoopDelayMs: 0, outboxBacklog: 0, paymentsBacklogSeconds: 0 };
  private utilizationSince: EventLoopUtilization = performance.eventLoopUtilization();
  private utilizationSampled = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly polling = new SharedPromise(() => this.poll());

  constructor(
    private readonly sources: LoadSources,
    private readonly everyMs: number,
  ) {
    this.pace = new DrainPace(Math.ceil(PACE_WINDOW_MS / everyMs));
  }

  start(): void {
    this.loop.enable();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    this.loop.disable();
    return Promise.resolve();
  }

  readonly readings = (): LoadReadings => ({ ...this.sampled, writeQueueWaitMs: this.sources.writeQueueWaitMs() });

  /** Share of the last sample the event loop was busy, 0-1 (see loop-saturation.ts). */
  readonly loopUtilization = (): number => this.utilizationSampled;

  private sample(): void {
    this.sampled.eventLoopDelayMs = this.loop.percentile(99) / 1e6;
    this.loop.reset();
    const now = performance.eventLoopUtilization();
    this.utilizationSampled = performance.eventLoopUtilization(now, this.utilizationSince).utilization;
    this.utilizationSince = now;
    void this.polling.run();
  }

  private async poll(): Promise<void> {
    const [backlog, lags] = await Promise.allSettled([
      withTimeout(this.sources.outboxBacklog(), SOURCE_TIMEOUT_MS, 'outbox backlog'),
      withTimeout(consumerLag(this.sources.admin, [this.sources.paymasterGroup]), SOURCE_TIMEOUT_MS, 'paymaster lag'),
    ]);
    if (backlog.status === 'fulfilled') this.sampled.outboxBacklog = backlog.value;
    if (lags.status === 'fulfilled') {
      const waiting = lags.value.reduce((n, p) => n + p.lag, 0);
      this.pace.record(
        lags.value.reduce((n, p) => n + p.end, 0),
        lags.value.reduce((n, p) => n + p.end - p.lag, 0),
        Date.now(),
      );
      this.sampled.paymentsBacklogSeconds = waiting / this.pace.best;
    }
  }
}
