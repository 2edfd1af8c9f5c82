import { backoffMs } from '../../common/backoff';

describe('backoffMs', () => {
  it('doubles from the base, with jitter in the upper half, and never passes the cap', () => {
    const b = { baseMs: 100, maxMs: 5_000 };
    for (let i = 0; i < 200; i++) {
      expect(backoffMs(1, b)).toBeGreaterThanOrEqual(50);
      expect(backoffMs(1, b)).toBeLessThanOrEqual(100);
      expect(backoffMs(4, b)).toBeGreaterThanOrEqual(400);
      expect(backoffMs(4, b)).toBeLessThanOrEqual(800);
      expect(backoffMs(60, b)).toBeGreaterThanOrEqual(2_500);
      expect(backoffMs(60, b)).toBeLessThanOrEqual(5_000);
    }
  });

  it('treats an attempt below 1 as the first', () => {
    expect(backoffMs(0, { baseMs: 8, maxMs: 8 })).toBeLessThanOrEqual(8);
    expect(backoffMs(-3, { baseMs: 8, maxMs: 100 })).toBeLessThanOrEqual(8);
  });
});
