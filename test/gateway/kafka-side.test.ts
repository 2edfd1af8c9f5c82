import type { StopStage } from '../../common/lifecycle';
import { createLogger } from '../../common/logger';
import { withTimeout } from '../../common/with-timeout';
import { startKafkaSide } from '../../gateway/src/kafka-side';

const logger = createLogger('test', 'silent');

/** An attempt that fails `failures` times (Kafka not answering), then starts a part that records its stop. */
function attempts(failures: number) {
  const calls = { attempts: 0, stopped: 0 };
  const attempt = (): Promise<StopStage> => {
    calls.attempts += 1;
    if (calls.attempts <= failures) return Promise.reject(new Error('connect ECONNREFUSED'));
    return Promise.resolve({ consumers: { stop: () => Promise.resolve(void (calls.stopped += 1)) } });
  };
  return { calls, attempt };
}

describe("the gateway's Kafka side", () => {
  it('is tried again until it starts, and only then counts as started', async () => {
    const { calls, attempt } = attempts(2);
    const side = startKafkaSide(attempt, logger);
    expect(side.isStarted()).toBe(false);
    await withTimeout(side.started, 10_000, 'the third attempt');
    expect({ attempts: calls.attempts, started: side.isStarted() }).toEqual({ attempts: 3, started: true });
    await side.stop();
    expect(calls.stopped).toBe(1);
  });

  it('stops trying when stopped between attempts, with nothing left running', async () => {
    const { calls, attempt } = attempts(Number.POSITIVE_INFINITY);
    const side = startKafkaSide(attempt, logger);
    await withTimeout(side.stop(), 2_000, 'the stop');
    await expect(side.started).rejects.toThrow();
    expect({ attempts: calls.attempts, stopped: calls.stopped, started: side.isStarted() }).toEqual({
      attempts: 1,
      stopped: 0,
      started: false,
    });
  });
});
