import { stopAll, type Stoppable } from '../../common/lifecycle';
import { TimeoutError } from '../../common/with-timeout';

/** A part that records when it stopped, and fails or never finishes when told to. */
function part(name: string, log: string[], how: 'ok' | 'fail' | 'hang' = 'ok'): Stoppable {
  return {
    stop: async () => {
      log.push(name);
      if (how === 'fail') throw new Error(`${name} failed`);
      if (how === 'hang') await new Promise(() => undefined);
    },
  };
}

describe('stopAll', () => {
  it('stops the stages in order, the parts of a stage together', async () => {
    const log: string[] = [];
    await stopAll('service', [[part('http', log), part('internal', log)], part('consumer', log), part('db', log)]);
    expect(log).toEqual(['http', 'internal', 'consumer', 'db']);
  });

  it('stops every part even after failures, and reports them all', async () => {
    const log: string[] = [];
    const stopping = stopAll('service', [
      part('http', log, 'fail'),
      [part('consumer', log), part('relay', log, 'fail')],
      part('db', log),
    ]);
    await expect(stopping).rejects.toBeInstanceOf(AggregateError);
    const error = (await stopping.catch((e: unknown) => e)) as AggregateError;
    expect(error.message).toBe('service did not stop cleanly');
    expect(error.errors.map((e: Error) => e.message)).toEqual(['http failed', 'relay failed']);
    expect(log).toEqual(['http', 'consumer', 'relay', 'db']);
  });

  it('gives up at the one deadline when a part never finishes', async () => {
    const log: string[] = [];
    await expect(stopAll('service', [part('stuck', log, 'hang'), part('db', log)], 20)).rejects.toBeInstanceOf(
      TimeoutError,
    );
    expect(log).toEqual(['stuck']);
  });
});
