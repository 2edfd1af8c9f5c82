import { CodedError } from './coded-error';
import { DrizzleQueryError } from 'drizzle-orm';
import { queryErrorMessage } from './error-redaction';

/**
 * Whether doing the same work again can succeed. Consumers retry `transient` failures in place
 * (with backoff) and park the one message behind a `deterministic` failure in its topic's DLQ.
 */
export type FailureClass = 'transient' | 'deterministic';

/** Thrown by code that knows its failure will pass (a dependency that is down, not a bad message). */
export class TransientError extends CodedError<'TRANSIENT'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRANSIENT', message, options);
  }
}

// ENOTFOUND too: a container's name stops resolving while it restarts (compose, Kubernetes).
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/**
 * pg and pg-pool report a lost or unobtainable connection only in the message; a pool already
 * closed means this process is stopping, and the work belongs to the next owner.
 */
const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i;

/**
 * SQLSTATEs that say "the database could not do it now", not "this can never be done":
 * 08 connection exceptions, 53 insufficient resources, 40001 serialization failure,
 * 40P01 deadlock, 55P03 lock not available, 57014 statement timeout / cancelled, 57P01-57P03
 * shutdown / cannot connect now, 25P03 idle-in-transaction timeout, 58 system errors (I/O,
 * files), and 25006 read-only transaction: a connection that reached a standby after a failover, or
 * a server turned read-only on a full disk. Each of those fails every message alike, so parked as
 * deterministic they would empty a partition into its DLQ.
 */
function isTransientSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('58') ||
    ['40001', '40P01', '55P03', '57014', '57P01', '57P02', '57P03', '25P03', '25006'].includes(code)
  );
}

/** The error and its causes (drizzle wraps the pg error; kafkajs wraps the last retry's error). */
function* causes(e: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  for (
    let current = e;
    typeof current === 'object' && current !== null && !seen.has(current);
    current = (current as { cause?: unknown }).cause
  ) {
    seen.add(current);
    yield current as Record<string, unknown>;
  }
}

function isTransientLink(e: Record<string, unknown>): boolean {
  if (e instanceof TransientError) return true;
  // kafkajs marks what its own retries may fix (connection, request timeout, leader moved).
  if (e.retriable === true) return true;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (
    code !== undefined &&
    (TRANSIENT_NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isTransientSqlState(code)))
  )
    return true;
  return typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message);
}

/**
 * Transient only when something in the chain says so. Everything else, including errors never seen
 * before, counts as deterministic: Postgres classes 22 (data), 23 (integrity), 42 (syntax/undefined),
 * schema failures, TypeError/RangeError. Why unknown → deterministic: a message parked in the DLQ by
 * mistake can be replayed, while a message retried for ever stalls its whole partition and helps nobody.
 */
export function classifyFailure(e: unknown): FailureClass {
  for (const link of causes(e)) if (isTransientLink(link)) return 'transient';
  return 'deterministic';
}

/** A short description for logs and DLQ headers: the message and SQLSTATE/code, not a whole stack. */
export function describeFailure(e: unknown): string {
  const links = [...causes(e)];
  const code = links.map((l) => l.code).find((c): c is string => typeof c === 'string');
  const message =
    links
      .map((l) => (l instanceof DrizzleQueryError ? queryErrorMessage(l) : l.message))
      .filter((m): m is string => typeof m === 'string')
      .at(-1) ?? String(e);
  return (code ? `${code}: ${message}` : message).slice(0, 500);
}

export const isTransientFailure = (e: unknown): boolean => classifyFailure(e) === 'transient';
