import { classifyFailure } from '../../common/failure-class';
import { TimeoutError, withTimeout } from '../../common/with-timeout';

describe('withTimeout', () => {
  it('settles like the work when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000, 'quick')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1_000, 'failing')).rejects.toThrow('boom');
  });

  it('rejects with a transient TimeoutError naming what was late', async () => {
    const never = new Promise<never>(() => undefined);
    const late = withTimeout(never, 10, 'Kafka send');
    await expect(late).rejects.toBeInstanceOf(TimeoutError);
    await expect(late).rejects.toMatchObject({ name: 'TimeoutError', message: 'Kafka send timed out after 10 ms' });
    expect(classifyFailure(await late.catch((e: unknown) => e))).toBe('transient');
  });
});
