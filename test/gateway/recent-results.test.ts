import { RecentResults } from '../../gateway/src/graphql/shared-execution';

describe('the shared executions’ results', () => {
  const result = (n: number) => ({ data: { n } });

  it('are kept for the newest events, the oldest event going first', () => {
    const kept = new RecentResults(2, 100);
    const [a, b, c] = [{}, {}, {}];
    kept.set(a, 'q', result(1));
    kept.set(b, 'q', result(2));
    kept.set(c, 'q', result(3));
    expect([kept.get(a, 'q'), kept.get(b, 'q'), kept.get(c, 'q')]).toEqual([undefined, result(2), result(3)]);
  });

  it('are kept up to their number in all, however many queries an event has: wide ones made gigabytes', () => {
    const kept = new RecentResults(1024, 5);
    const [a, b] = [{}, {}];
    for (let q = 0; q < 3; q++) kept.set(a, `q${q}`, result(q));
    for (let q = 0; q < 3; q++) kept.set(b, `q${q}`, result(q));
    // Six results: the older event's go, all of them.
    expect([kept.get(a, 'q0'), kept.get(a, 'q2'), kept.get(b, 'q0'), kept.get(b, 'q2')]).toEqual([
      undefined,
      undefined,
      result(0),
      result(2),
    ]);
    // The newest event keeps what it has, even past the number: dropping it would execute again for each subscriber.
    for (let q = 3; q < 8; q++) kept.set(b, `q${q}`, result(q));
    expect(kept.get(b, 'q7')).toEqual(result(7));
    expect(kept.get(b, 'q0')).toEqual(result(0));
  });
});
