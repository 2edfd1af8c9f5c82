import { AdaptiveLimit } from '../../gateway/src/adaptive-limit';

/** A limit on a hand-driven clock: `run(n, ms)` starts n calls, then ends them ms later. */
function harness(initial: number, min = 4, max = 100) {
  let clock = 0;
  const limit = new AdaptiveLimit({ targetMs: 100, initial, min, max, windowMs: 250, now: () => clock });
  const run = (n: number, ms: number, sample = true): number => {
    const tickets = Array.from({ length: n }, () => limit.tryAcquire());
    clock += ms;
    for (const t of tickets) t?.(sample);
    return tickets.filter(Boolean).length;
  };
  /** Ends the window: the next call to end after it closes it. */
  const settle = (): void => {
    clock += 250;
    limit.tryAcquire()?.(false);
  };
  return { limit, run, settle };
}

describe('the adaptive concurrency limit', () => {
  it('refuses past the limit, and a released slot is free again', () => {
    const { limit } = harness(2);
    const a = limit.tryAcquire();
    const b = limit.tryAcquire();
    expect(a && b).toBeTruthy();
    expect(limit.full).toBe(true);
    expect(limit.tryAcquire()).toBeUndefined();
    a!(false);
    expect(limit.inUse).toBe(1);
    expect(limit.tryAcquire()).toBeDefined();
  });

  it('releasing a ticket twice frees one slot only', () => {
    const { limit } = harness(2);
    const a = limit.tryAcquire()!;
    limit.tryAcquire();
    a(false);
    a(false);
    expect(limit.inUse).toBe(1);
  });

  it('cuts in proportion to how far latency is over target, at most by half per window', () => {
    const { limit, run, settle } = harness(40);
    settle();
    run(10, 125); // p90 125 ms against 100: 40 × 0.8
    settle();
    expect(limit.limit).toBe(32);
    run(10, 1000); // ten times over: halved, not cut to a tenth
    settle();
    expect(limit.limit).toBe(16);
  });

  it('grows while it is what turns calls away and latency is on target, up to its maximum', () => {
    const { limit, run, settle } = harness(10, 4, 12);
    settle();
    expect(run(11, 50)).toBe(10); // one refused: the limit was binding
    settle();
    expect(limit.limit).toBe(11);
    run(12, 50);
    settle();
    run(20, 50);
    settle();
    expect(limit.limit).toBe(12);
  });

  it('stays put when on target but not binding, and never goes below its minimum', () => {
    const { limit, run, settle } = harness(10, 6);
    settle();
    run(3, 50);
    settle();
    expect(limit.limit).toBe(10);
    for (let i = 0; i < 5; i++) {
      run(3, 5000);
      settle();
    }
    expect(limit.limit).toBe(6);
  });

  it('learns nothing from calls that were not samples (an outage answered NEW)', () => {
    const { limit, run, settle } = harness(10);
    settle();
    run(5, 5000, false);
    settle();
    expect(limit.limit).toBe(10);
    run(5, 5000);
    settle();
    expect(limit.limit).toBe(5);
  });

  it('adjusts once a window has passed, not on every slow call', () => {
    const { limit, run } = harness(10);
    run(5, 200); // 200 ms over target, but the window (250 ms) is not over
    expect(limit.limit).toBe(10);
    run(1, 100); // ends after the window: closes it on the five before
    expect(limit.limit).toBe(5);
  });
});
