import {
  LoadTimeline,
  mergePushSeconds,
  perSecondIncrease,
  runTimeline,
  secondOf,
  steadyRate,
} from '../../bench/timeline';

describe('steadyRate', () => {
  it('counts only the accepted requests of the window, per second, leaving out the warm-up', () => {
    const t = new LoadTimeline();
    const t0 = 0;
    for (let s = 0; s < 6; s++)
      for (let i = 0; i < (s < 2 ? 500 : 100); i++) t.add(secondOf(t0 + 1000 * s + i, t0), 'ok', 5);
    t.add(secondOf(t0 + 3000, t0), 'refused', 1);
    expect(steadyRate(t.summary(), 2, 4)).toBe(100);
    expect(steadyRate(t.summary(), 0, 2)).toBe(500);
  });
});

describe('LoadTimeline', () => {
  it('counts each outcome in the second its request was sent, with that second’s latencies', () => {
    const t = new LoadTimeline();
    const t0 = 1_000;
    for (let i = 0; i < 100; i++) t.add(secondOf(t0 + 10 * i, t0), 'ok', i + 1); // second 0: 1..100 ms
    t.add(secondOf(t0 + 2_500, t0), 'refused', 7);
    t.add(secondOf(t0 + 2_999, t0), 'error', 3_000); // answered long after its second: still second 2
    const [s0, s1, s2] = t.summary();
    expect(s0).toEqual({
      second: 0,
      sent: 100,
      ok: 100,
      refused: 0,
      errors: 0,
      latencyMs: { p50: 50, p99: 99, max: 100 },
    });
    expect(s1).toEqual({
      second: 1,
      sent: 0,
      ok: 0,
      refused: 0,
      errors: 0,
      latencyMs: { p50: null, p99: null, max: null },
    });
    expect(s2).toMatchObject({ second: 2, sent: 2, refused: 1, errors: 1, latencyMs: { max: 3_000 } });
    expect(t.summary()).toHaveLength(3);
  });

  it('is empty before anything was sent', () => {
    expect(new LoadTimeline().summary()).toEqual([]);
  });
});

describe('mergePushSeconds', () => {
  it('merges the raw samples of every watcher per second of the load, not their percentiles', () => {
    const load = 10_000;
    const merged = mergePushSeconds(
      [
        { startedAtMs: load - 300, seconds: [0, 0, 1], samples: [10, 20, 500] }, // ready 0.3 s before the load: same seconds
        { startedAtMs: load + 1_000, seconds: [0, 0, 0, 0], samples: [30, 40, 50, 60] }, // its 0 is the load's 1
      ],
      load,
    );
    expect(merged).toEqual([
      { second: 0, pushes: 2, p50: 10, p99: 20 },
      { second: 1, pushes: 5, p50: 50, p99: 500 },
    ]);
  });

  it('leaves out pushes received before the load began', () => {
    expect(mergePushSeconds([{ startedAtMs: 0, seconds: [0, 5], samples: [1, 2] }], 2_000)).toEqual([
      { second: 0, pushes: 0, p50: null, p99: null },
      { second: 1, pushes: 0, p50: null, p99: null },
      { second: 2, pushes: 0, p50: null, p99: null },
      { second: 3, pushes: 1, p50: 2, p99: 2 },
    ]);
  });
});

describe('perSecondIncrease', () => {
  it('interpolates the total at each second’s edges', () => {
    const t0 = 50_000;
    const readings = [
      { atMs: t0 - 500, count: 0 },
      { atMs: t0 + 500, count: 100 },
      { atMs: t0 + 1_500, count: 300 },
      { atMs: t0 + 3_500, count: 500 }, // a reading missed: its two seconds share the increase
    ];
    expect(perSecondIncrease(readings, t0)).toEqual([150, 150, 100]);
  });

  it('has no value for seconds before its first reading', () => {
    expect(
      perSecondIncrease(
        [
          { atMs: 1_000, count: 0 },
          { atMs: 3_000, count: 10 },
        ],
        0,
      ),
    ).toEqual([null, 5, 5]);
    expect(perSecondIncrease([], 0)).toEqual([]);
  });
});

describe('runTimeline', () => {
  const load = new LoadTimeline();
  load.add(0, 'ok', 5);
  load.add(1, 'refused', 1);

  it('lines up the load, the completions and the pushes, and ends with the last activity', () => {
    const seconds = runTimeline(load.summary(), [null, 4, 6, 0, 0], [{ second: 0, pushes: 3, p50: 20, p99: 80 }]);
    expect(seconds).toHaveLength(3);
    expect(seconds[0]).toEqual({
      second: 0,
      offered: 1,
      accepted: 1,
      refused: 0,
      errors: 0,
      createPaymentMs: { p50: 5, p99: 5 },
      completed: null,
      push: { pushes: 3, p50Ms: 20, p99Ms: 80 },
    });
    expect(seconds[2]).toMatchObject({ offered: 0, completed: 6, push: { pushes: 0, p99Ms: null } });
  });

  it('has no push field without subscribers', () => {
    expect(runTimeline(load.summary(), [])[0]).not.toHaveProperty('push');
  });
});
