import { Batcher, listJoiner } from '../../common/batcher';

/** The group commit's promise to callers: a batch that fails because of one item fails only that one. */
describe('Batcher', () => {
  const refusing = (maxConcurrent = 2) => {
    const calls: string[][] = [];
    let running = 0;
    let peak = 0;
    const run = async (items: string[]): Promise<string[]> => {
      calls.push(items);
      peak = Math.max(peak, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      if (items.includes('poison')) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
      return items.map((i) => i.toUpperCase());
    };
    return { calls, peak: () => peak, batcher: new Batcher(run, 500, maxConcurrent) };
  };

  it('runs each item of a failed batch alone, so only the culprit fails', async () => {
    // One at a time: 'a' goes out alone, the other three wait and share the next statement.
    const { calls, batcher } = refusing(1);
    const results = await Promise.allSettled(['a', 'b', 'poison', 'c'].map((i) => batcher.submit(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual(['A', 'B', 'failed', 'C']);
    expect(calls).toEqual([['a'], ['b', 'poison', 'c'], ['b'], ['poison'], ['c']]);
  });

  it('keeps the lone retries within the concurrency limit', async () => {
    const { peak, batcher } = refusing();
    await Promise.allSettled(
      ['poison', ...Array.from({ length: 50 }, (_, i) => `x${i}`)].map((i) => batcher.submit(i)),
    );
    expect(peak()).toBeLessThanOrEqual(2);
  });

  it('fails a whole batch at once on an outage, without retrying each item', async () => {
    const calls: string[][] = [];
    const batcher = new Batcher(async (items: string[]) => {
      calls.push(items);
      await new Promise((r) => setImmediate(r));
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    const results = await Promise.allSettled(['a', 'b', 'c'].map((i) => batcher.submit(i)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls.every((c) => c.length > 0)).toBe(true);
    expect(calls.flat()).toHaveLength(3);
  });
});

describe('listJoiner', () => {
  it('joins the lists handed over while a call is on the wire, and redoes a refused join per list', async () => {
    const calls: string[][] = [];
    const joiner = listJoiner(async (items: string[]) => {
      calls.push(items);
      await new Promise((r) => setImmediate(r));
      if (items.includes('poison')) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    });
    const lists = [['a1', 'a2'], ['b1'], ['c1', 'poison'], ['d1']];
    const results = await Promise.allSettled(lists.map((list) => joiner.submit(list)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    // The first alone, the other three joined, then each of those alone after the refusal.
    expect(calls).toEqual([['a1', 'a2'], ['b1', 'c1', 'poison', 'd1'], ['b1'], ['c1', 'poison'], ['d1']]);
  });
});
