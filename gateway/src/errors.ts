import { GraphQLError } from 'graphql';
import { API_ERROR_STATUS, ApiError, type ApiErrorCode } from '../../common/api-error';

export const badInput = (message: string): ApiError => new ApiError('BAD_USER_INPUT', message);

/** How long a client should wait after an outage answer; short, since most outages here are restarts. */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

export const OUTAGE_MESSAGE = 'retry later (a write retried with the same idempotency key happens once)';

/** `cause` is what went wrong, for the log line under the answer's error id; the client never sees it. */
export const unavailable = (what: string, cause: unknown): ApiError =>
  new ApiError('UNAVAILABLE', `${what} is unavailable right now; ${OUTAGE_MESSAGE}`, {
    retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
    cause,
  });

/** An error graphql-js reports itself (document limits, WebSocket refusals), coded and with its HTTP status like any other. */
export const codedGraphQLError = (code: ApiErrorCode, message: string, headers?: Map<string, string>): GraphQLError =>
  new GraphQLError(message, {
    extensions: { code, http: { status: API_ERROR_STATUS[code], ...(headers ? { headers } : {}) } },
  });
