import { SharedPromise } from '../../common/shared-promise';

/** A promise the test settles by hand. */
function gate(): { promise: Promise<number>; open: (n: number) => void; fail: (e: Error) => void } {
  let open!: (n: number) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<number>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

describe('SharedPromise', () => {
  it('shares the run in flight instead of starting another', async () => {
    const g = gate();
    let runs = 0;
    const shared = new SharedPromise(() => (runs++, g.promise));
    const first = shared.run();
    const second = shared.run();
    expect(second).toBe(first);
    expect(shared.current).toBe(first);
    g.open(1);
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(runs).toBe(1);
    expect(shared.current).toBeUndefined();
  });

  it('starts afresh once the run settled, even after a failure', async () => {
    const gates = [gate(), gate()];
    let runs = 0;
    const shared = new SharedPromise(() => gates[runs++]!.promise);
    const first = shared.run();
    gates[0]!.fail(new Error('broker away'));
    await expect(first).rejects.toThrow('broker away');
    const second = shared.run();
    expect(second).not.toBe(first);
    gates[1]!.open(2);
    expect(await second).toBe(2);
    expect(runs).toBe(2);
  });
});
