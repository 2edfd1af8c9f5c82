import { composite, startAllOrNone, stopAll, StopTimeoutError, type Stoppable } from '../../common/lifecycle';
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
    await stopAll('service', [
      { http: part('http', log), internal: part('internal', log) },
      { consumer: part('consumer', log) },
      { db: part('db', log) },
    ]);
    expect(log).toEqual(['http', 'internal', 'consumer', 'db']);
  });

  it('stops every part even after failures, and reports them all', async () => {
    const log: string[] = [];
    const stopping = stopAll('service', [
      { http: part('http', log, 'fail') },
      { consumer: part('consumer', log), relay: part('relay', log, 'fail') },
      { db: part('db', log) },
    ]);
    await expect(stopping).rejects.toBeInstanceOf(AggregateError);
    const error = (await stopping.catch((e: unknown) => e)) as AggregateError;
    expect(error.message).toBe('service did not stop cleanly');
    expect(error.errors.map((e: Error) => e.message)).toEqual(['http failed', 'relay failed']);
    expect(log).toEqual(['http', 'consumer', 'relay', 'db']);
  });

  it('gives up at the one deadline when a part never finishes, naming the parts still stopping', async () => {
    const log: string[] = [];
    const server = composite('the server', [{ socket: part('socket', log), listener: part('listener', log, 'hang') }]);
    const stopping = stopAll(
      'service',
      [{ server, consumer: part('consumer', log, 'hang'), relay: part('relay', log) }, { db: part('db', log) }],
      20,
    );
    await expect(stopping).rejects.toBeInstanceOf(TimeoutError);
    const error = (await stopping.catch((e: unknown) => e)) as StopTimeoutError;
    expect(error.pending).toEqual(['server', 'server.listener', 'consumer']);
    expect(error.message).toBe(
      'stopping service (still stopping: server, server.listener, consumer) timed out after 20 ms',
    );
    expect(log.sort()).toEqual(['consumer', 'listener', 'relay', 'socket']);
  });
});

describe('startAllOrNone', () => {
  it('hands back every part it started, by name', async () => {
    const log: string[] = [];
    const started = await startAllOrNone({
      writer: () => Promise.resolve(part('writer', log)),
      fanOut: () => Promise.resolve(part('fanOut', log)),
    });
    expect(Object.keys(started)).toEqual(['writer', 'fanOut']);
    expect(log).toEqual([]);
  });

  it('stops the parts that started when one fails, and throws that failure', async () => {
    const log: string[] = [];
    const starting = startAllOrNone({
      writer: () => Promise.resolve(part('writer', log)),
      fanOut: () => Promise.reject(new Error('no broker')),
      deposits: () => Promise.resolve(part('deposits', log)),
    });
    await expect(starting).rejects.toThrow('no broker');
    expect(log.sort()).toEqual(['deposits', 'writer']);
  });
});
