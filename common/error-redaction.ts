import { DrizzleQueryError } from 'drizzle-orm';

/**
 * Drizzle wraps a failed statement as "Failed query: <sql>\nparams: <values>", in its message,
 * its stack and a `params` field, and Postgres quotes row values in an error's `detail` ("Key
 * (user_name)=(…) already exists", "Failing row contains (…)"). Those values are user data
 * (names, amounts, idempotency keys), so what leaves a process (log lines, DLQ headers, span
 * statuses) keeps the SQL and which rule failed (`code`, `constraint`, `table`), not the data.
 */
export const queryErrorMessage = (e: DrizzleQueryError): string => `Failed query: ${e.query}`;

/** `e` with its cause chain redacted as above, or `e` itself when nothing in it needs to be. */
export function redactedForLogs(e: unknown): unknown {
  return carriesData(e) ? redacted(e as Error) : e;
}

const MAX_DEPTH = 10;

function carriesData(e: unknown): boolean {
  for (let link = e, depth = 0; link instanceof Error && depth < MAX_DEPTH; link = link.cause, depth++)
    if (link instanceof DrizzleQueryError || typeof (link as { detail?: unknown }).detail === 'string') return true;
  return false;
}

function redacted(e: Error, depth = 0): Error {
  const cause = e.cause instanceof Error && depth < MAX_DEPTH ? redacted(e.cause, depth + 1) : e.cause;
  if (e instanceof DrizzleQueryError) {
    const copy = new Error(queryErrorMessage(e), { cause });
    copy.name = 'DrizzleQueryError';
    const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    copy.stack = [`${copy.name}: ${copy.message}`, ...frames].join('\n');
    return copy;
  }
  // The same kind of error with the same fields (a pg error's code, kafkajs' retriable) but no detail.
  const copy = Object.create(Object.getPrototypeOf(e) as object) as Error & { detail?: unknown };
  Object.assign(copy, e, { name: e.name, message: e.message, stack: e.stack, cause });
  delete copy.detail;
  return copy;
}
