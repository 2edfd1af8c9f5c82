import { TransientError } from './failure-class';

/** Transient: what timed out may well succeed on another try (consumers retry it in place). */
export class TimeoutError extends TransientError {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
  }
}

/**
 * Settles like `work`, or rejects with a TimeoutError after `ms` (or with `timedOut()`, made when
 * the time is up, for a caller that reports what was still going on). `work` itself is not
 * cancelled: callers give up waiting, they do not undo. The timer never keeps the process alive.
 */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  timedOut: () => Error = () => new TimeoutError(what, ms),
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut()), ms);
    timer.unref();
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
