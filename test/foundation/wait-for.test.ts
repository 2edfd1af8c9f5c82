import { waitFor } from '../../common/wait-for';

describe('waitFor', () => {
  it('returns the first value the probe finds, treating throws as "not yet"', async () => {
    let calls = 0;
    const probe = (): string | undefined => {
      calls++;
      if (calls === 1) throw new Error('not up yet');
      return calls === 3 ? 'ready' : undefined;
    };
    expect(await waitFor('the thing', probe, 5_000, 1)).toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails after the timeout, naming what it waited for and the last error', async () => {
    const probe = (): Promise<undefined> => Promise.reject(new Error('connection refused'));
    await expect(waitFor('the broker', probe, 20, 5)).rejects.toThrow(
      /timed out after 20 ms waiting for the broker: Error: connection refused/,
    );
  });
});
