import { sleep } from '../../common/sleep';

describe('sleep', () => {
  it('resolves with the given value no sooner than asked', async () => {
    const started = performance.now();
    expect(await sleep(30, 'woke')).toBe('woke');
    // Timers may fire up to a millisecond early by the clock's rounding.
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('rejects at once when its signal aborts', async () => {
    const abort = new AbortController();
    const waiting = sleep(60_000, undefined, { signal: abort.signal });
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
