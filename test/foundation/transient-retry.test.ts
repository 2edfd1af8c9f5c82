import { TransientError } from '../../common/failure-class';
import { createLogger } from '../../common/logger';
import { retryTransient, type ConsumerScope } from '../../common/kafka/transient-retry';

const FAST = { baseMs: 1, maxMs: 4 };

function scope(active: () => boolean = () => true): ConsumerScope & { heartbeats: number } {
  const s = {
    heartbeats: 0,
    isActive: active,
    logger: createLogger('test', 'silent'),
    heartbeat: () => Promise.resolve(void s.heartbeats++),
  };
  return s;
}

/** Fails with each error in turn, then returns 'ok'; counts calls. */
function failing(...errors: unknown[]): { calls: number; work: () => Promise<string> } {
  const state = {
    calls: 0,
    work: () => {
      const error = errors[state.calls++];
      return error === undefined ? Promise.resolve('ok') : Promise.reject(error as Error);
    },
  };
  return state;
}

describe('retryTransient', () => {
  it('retries transient failures in place, heartbeating, until the work passes', async () => {
    const s = scope();
    const w = failing(new TransientError('db away'), Object.assign(new Error('serialization'), { code: '40001' }));
    expect(await retryTransient('work', w.work, s, FAST)).toEqual({ kind: 'done', value: 'ok' });
    expect(w.calls).toBe(3);
    expect(s.heartbeats).toBe(2);
  });

  it('returns a deterministic failure at once, without retrying', async () => {
    const error = Object.assign(new Error('bad data'), { code: '22021' });
    const w = failing(error);
    expect(await retryTransient('work', w.work, scope(), FAST)).toEqual({ kind: 'deterministic', error });
    expect(w.calls).toBe(1);
  });

  it('gives up (abandoned) when the consumer stops while it waits', async () => {
    const w = failing(...Array.from({ length: 1000 }, () => new TransientError('db away')));
    // The consumer stops after the fifth attempt.
    expect(
      await retryTransient(
        'work',
        w.work,
        scope(() => w.calls < 5),
        FAST,
      ),
    ).toEqual({ kind: 'abandoned' });
    expect(w.calls).toBe(5);
  });
});
