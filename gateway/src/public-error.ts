import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { sendJson } from '../../common/http';
import type { Logger } from '../../common/logger';
import { isTransientFailure } from '../../common/failure-class';
import { OUTAGE_MESSAGE, OUTAGE_RETRY_AFTER_SECONDS } from './errors';
import { ApiError, type ApiErrorCode } from '../../common/api-error';

/** What any answer may say about a failure: never SQL, parameters, stacks or another caller's data. */
export interface PublicError {
  status: number;
  code: ApiErrorCode;
  message: string;
  /** Only on 5xx: the same id is in the log line, so an operator can find what happened. */
  errorId?: string;
  retryAfterSeconds?: number;
}

/**
 * Turns any thrown value into what a client may see, the same for GraphQL, REST and WebSocket.
 * Known errors pass as they are; a dependency outage becomes a retryable UNAVAILABLE; anything
 * else is a bug, logged in full under an error id and answered with that id alone.
 */
export function toPublicError(e: unknown, logger: Logger): PublicError {
  if (e instanceof ApiError && e.code === 'UNAVAILABLE') return outage(e.message, e.cause, logger);
  if (e instanceof ApiError)
    return { status: e.httpStatus, code: e.code, message: e.message, retryAfterSeconds: e.retryAfterSeconds };
  if (isTransientFailure(e)) return outage(`the service is unavailable right now; ${OUTAGE_MESSAGE}`, e, logger);
  const errorId = randomUUID();
  logger.error({ err: e, errorId }, 'internal error');
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: `internal error (id ${errorId})`, errorId };
}

function outage(message: string, cause: unknown, logger: Logger): PublicError {
  const errorId = randomUUID();
  logger.warn({ err: cause, errorId }, 'a dependency is unavailable');
  return { status: 503, code: 'UNAVAILABLE', message, errorId, retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS };
}

/** The `extensions` of a GraphQL error, or the `error` object of a REST body. */
export const publicDetails = (p: PublicError): Record<string, unknown> => ({
  code: p.code,
  ...(p.errorId ? { errorId: p.errorId } : {}),
  ...(p.retryAfterSeconds !== undefined ? { retryAfterSeconds: p.retryAfterSeconds } : {}),
});

/** RFC 7235: every 401 names the scheme that would have been accepted; the public API takes JWTs (RFC 6750). */
export const BEARER_CHALLENGE = 'Bearer realm="payments"';

/**
 * REST bodies are `{ error: {...} }`; a GraphQL body the server could not even read keeps GraphQL's shape.
 * `challenge` is the `WWW-Authenticate` of a 401.
 */
export function sendPublicError(
  res: http.ServerResponse,
  p: PublicError,
  shape: 'rest' | 'graphql',
  challenge = BEARER_CHALLENGE,
): void {
  const headers = {
    ...(p.retryAfterSeconds === undefined ? {} : { 'retry-after': String(p.retryAfterSeconds) }),
    ...(p.status === 401 ? { 'www-authenticate': challenge } : {}),
  };
  const details = publicDetails(p);
  const body =
    shape === 'graphql'
      ? { errors: [{ message: p.message, extensions: details }] }
      : { error: { ...details, message: p.message } };
  sendJson(res, p.status, body, headers);
}
