import { CodedError } from './coded-error';

/**
 * Every code a client of any API here (GraphQL `extensions.code`, REST and internal `error.code`)
 * can see, each with the one HTTP status it answers with.
 */
export const API_ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  BAD_JSON: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** The same idempotency key came back with different parameters. */
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  /** The system is measurably behind (gateway admission): refused at once, retry after `Retry-After`. */
  RESOURCE_EXHAUSTED: 429,
  /** A bug; the answer carries only an error id, which the log line carries too. */
  INTERNAL_SERVER_ERROR: 500,
  /** A dependency (Postgres, Kafka, another service) is down: retry later, with the same idempotency key. */
  UNAVAILABLE: 503,
  // GraphQL's verdicts on a document (graphql-js and Apollo name them; QUERY_TOO_COMPLEX is ours).
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  QUERY_TOO_COMPLEX: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
  PERSISTED_QUERY_NOT_FOUND: 400,
  PERSISTED_QUERY_NOT_SUPPORTED: 400,
  /** A request Apollo could not read as GraphQL at all (no query, wrong content type), or HTTP that Node's parser refused. */
  BAD_REQUEST: 400,
  /** Node's parser: the request's headers were not all in within `headersTimeout`, or its body within `requestTimeout`. */
  REQUEST_TIMEOUT: 408,
  /** Node's parser: the request's headers are over `maxHeaderSize`. */
  HEADERS_TOO_LARGE: 431,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export const isApiErrorCode = (code: unknown): code is ApiErrorCode =>
  typeof code === 'string' && Object.hasOwn(API_ERROR_STATUS, code);

/** A failure the caller caused or can act on; anything else is an internal error and shows no details. */
export class ApiError extends CodedError<ApiErrorCode> {
  /** When a retry may succeed; REST sends it as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(code: ApiErrorCode, message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get httpStatus(): number {
    return API_ERROR_STATUS[this.code];
  }
}
