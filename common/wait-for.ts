import { sleep } from './sleep';

/**
 * Asks `probe` every `everyMs` until it returns a value (not undefined), and returns it. A probe
 * that throws counts as "not yet"; after `timeoutMs` the last error is part of the failure.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : `: ${describe(lastError)}`}`,
        { cause: lastError },
      );
    }
    await sleep(everyMs);
  }
}

const describe = (e: unknown): string => (e instanceof Error ? String(e) : JSON.stringify(e));
