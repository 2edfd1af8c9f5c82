/**
 * Only one run of `work` in flight: a call while a run is under way shares that run instead of
 * starting another (a sweep stuck behind an outage must not pile up more sweeps). The next call
 * after it settled, fulfilled or not, starts afresh.
 */
export class SharedPromise<T> {
  private running: Promise<T> | undefined;

  constructor(private readonly work: () => Promise<T>) {}

  run(): Promise<T> {
    if (this.running) return this.running;
    const run = this.work().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** The run in flight, if any: what a stop waits for. */
  get current(): Promise<T> | undefined {
    return this.running;
  }
}
