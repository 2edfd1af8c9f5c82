import { PerSecondCounts, type CountedSecond } from '../../gateway/src/per-second-counts';

describe('PerSecondCounts', () => {
  it('hands over each second it closes with the seconds elapsed since it began, and starts the next at zero', () => {
    let nowMs = 10_000;
    const closed: Array<[CountedSecond<'a' | 'b'>, number]> = [];
    const seconds = new PerSecondCounts(
      ['a', 'b'],
      (last, elapsed) => closed.push([last, elapsed]),
      () => nowMs,
    );

    seconds.get().counts.a += 2; // closes the empty second 0 first
    nowMs = 10_999;
    seconds.get().counts.b += 1;
    nowMs = 11_000;
    expect(seconds.get()).toEqual({ second: 11, counts: { a: 0, b: 0 } });
    nowMs = 14_500;
    seconds.get();

    expect(closed).toEqual([
      [{ second: 0, counts: { a: 0, b: 0 } }, 10],
      [{ second: 10, counts: { a: 2, b: 1 } }, 1],
      [{ second: 11, counts: { a: 0, b: 0 } }, 3],
    ]);
  });
});
