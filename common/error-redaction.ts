import { DrizzleQueryError } from 'drizzle-orm';

/**
 * Drizzle wraps a failed statement as "Failed query: <sql>\nparams: <values>", in its message,
 * its stack and a `params` field, and Postgres quotes row values in an error's `detail` ("Key
 * (user_name)=(…) already exists", "Failing row contains (…)"). Those values are user data
 * (names, amounts, idempotency keys), so what leaves a process (log lines, DLQ headers, span
 * statuses) keeps the SQL and which rule failed (`code`, `constraint`, `table`), not the data.
 * Postgres's own message may still quote a value it could not read (22P02); inputs are checked
 * before they reach a statement, so that takes a bug.
 */
export const queryErrorMessage = (e: DrizzleQueryError): string => `Failed query: ${e.query}`;

/** `e` with its errors redacted as above, or `e` itself when nothing in it needs to be. */
export function redactedForLogs(e: unknown): unknown {
  if (!carriesData(e, 0)) return e;
  try {
    return redacted(e as Error, 0);
  } catch {
    // Never a failure inside a logger: what is left is the kind and the code.
    const { name, code } = e as { name?: unknown; code?: unknown };
    return Object.assign(new Error(`${String(name)} (details withheld)`), { code });
  }
}

const MAX_DEPTH = 10;

/** The errors `e` wraps: its cause, and an AggregateError's errors. */
const inner = (e: Error): unknown[] => [e.cause, ...(e instanceof AggregateError ? (e.errors as unknown[]) : [])];

function carriesData(e: unknown, depth: number): boolean {
  if (!(e instanceof Error) || depth > MAX_DEPTH) return false;
  if (e instanceof DrizzleQueryError || typeof (e as { detail?: unknown }).detail === 'string') return true;
  return inner(e).some((i) => carriesData(i, depth + 1));
}

function redacted(e: Error, depth: number): Error {
  const clean = (i: unknown): unknown => (i instanceof Error && depth < MAX_DEPTH ? redacted(i, depth + 1) : i);
  const cause = clean(e.cause);
  if (e instanceof DrizzleQueryError) {
    const copy = new Error(queryErrorMessage(e), { cause });
    copy.name = 'DrizzleQueryError';
    const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    copy.stack = [`${copy.name}: ${copy.message}`, ...frames].join('\n');
    return copy;
  }
  // The same kind of error with the same fields (a pg error's code, kafkajs' retriable) but no detail.
  const copy = Object.create(Object.getPrototypeOf(e) as object) as Error & { detail?: unknown; errors?: unknown };
  Object.assign(copy, e);
  for (const key of ['name', 'message', 'stack'] as const)
    Object.defineProperty(copy, key, { value: e[key], writable: true, configurable: true });
  Object.defineProperty(copy, 'cause', { value: cause, writable: true, configurable: true });
  if (e instanceof AggregateError)
    Object.defineProperty(copy, 'errors', {
      value: (e.errors as unknown[]).map(clean),
      writable: true,
      configurable: true,
    });
  delete copy.detail;
  return copy;
}
