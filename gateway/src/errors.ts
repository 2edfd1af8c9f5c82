/** The error codes a client can see, each with its HTTP status; GraphQL puts the code in `extensions.code`. */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The same idempotency key came back with different parameters. */
  CONFLICT: 409,
  RATE_LIMITED: 429,
  /** The system is measurably behind (see admission.ts): refused at once, retry after `Retry-After`. */
  RESOURCE_EXHAUSTED: 429,
  /** A dependency (Postgres, Kafka, money-storage) is down: retry later, with the same idempotency key. */
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure the caller caused or can act on; anything else is an internal error and shows no details. */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** When a retry may succeed; REST sends it as `Retry-After`. */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }

  get httpStatus(): number {
    return ERROR_STATUS[this.code];
  }
}

export const badInput = (message: string): GatewayError => new GatewayError('BAD_USER_INPUT', message);

/** How long a client should wait after an outage answer; short, since most outages here are restarts. */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

export const OUTAGE_MESSAGE = 'retry later (a write retried with the same idempotency key happens once)';

/** `cause` is what went wrong, for the log line under the answer's error id; the client never sees it. */
export const unavailable = (what: string, cause: unknown): GatewayError =>
  new GatewayError('UNAVAILABLE', `${what} is unavailable right now; ${OUTAGE_MESSAGE}`, OUTAGE_RETRY_AFTER_SECONDS, { cause });
