import type http from 'node:http';
import { readJson, requestUrl, sendJson } from '../../../common/http';
import { isUserId, type UserId } from '../../../common/ids';
import { startHttpServer, type RunningServer } from '../../../common/health-server';
import type { Logger } from '../../../common/logger';
import { tracerOf } from '../../../common/tracing';
import { hasServiceToken, SERVICE_TOKEN_HEADER } from '../../../common/service-token';
import type { PaymentStore } from '../payment-store';
import { sendPublicError, toPublicError } from '../public-error';
import { Router } from './router';
import { ApiError } from '../../../common/api-error';
import { MAX_USER_LOOKUP_IDS, USER_LOOKUP_PATH, USER_STATUSES, type UserStatus } from '../../../common/user-lookup';

// MAX_USER_LOOKUP_IDS ids of at most 19 digits, quoted and separated, with room for the envelope.
const LOOKUP_BODY_LIMIT = 16 * 1024;

/** `{ ids: [...] }`: 1 to MAX_USER_LOOKUP_IDS user ids, each a string of a positive int8; duplicates are harmless. */
function userIdList(body: unknown): UserId[] {
  const ids = (body as { ids?: unknown } | null)?.ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_USER_LOOKUP_IDS)
    throw new ApiError('BAD_USER_INPUT', `ids must be an array of 1 to ${MAX_USER_LOOKUP_IDS} user ids`);
  if (!ids.every((id): id is UserId => typeof id === 'string' && isUserId(id)))
    throw new ApiError('BAD_USER_INPUT', 'every id must be a positive integer, as a string');
  return [...new Set(ids)];
}

/** For other services (money-storage) and operators: never exposed to users, always behind the service token. */
export function internalRoutes(store: PaymentStore, serviceToken: string): Router {
  const authorize = (req: http.IncomingMessage): void => {
    if (!hasServiceToken(req, serviceToken))
      throw new ApiError('UNAUTHENTICATED', `missing or wrong ${SERVICE_TOKEN_HEADER}`);
  };
  const guard = (req: http.IncomingMessage, rawId: string | undefined): UserId => {
    authorize(req);
    if (!rawId || !isUserId(rawId)) throw new ApiError('BAD_USER_INPUT', 'user id must be a positive integer');
    return rawId;
  };
  const render = (u: { id: UserId; userName: string; status: UserStatus }) => ({
    id: u.id,
    userName: u.userName,
    status: u.status,
  });
  return new Router()
    .on('POST', new RegExp(`^${USER_LOOKUP_PATH}$`), async (req, res) => {
      authorize(req);
      const users = await store.findUsers(userIdList(await readJson(req, LOOKUP_BODY_LIMIT)));
      sendJson(res, 200, { users: users.map(render) });
    })
    .on('GET', /^\/internal\/users\/([^/]+)$/, async (req, res, [rawId]) => {
      const [user] = await store.findUsers([guard(req, rawId)]);
      if (!user) throw new ApiError('NOT_FOUND', 'no such user');
      sendJson(res, 200, render(user));
    })
    .on('PUT', /^\/internal\/users\/([^/]+)\/status$/, async (req, res, [rawId]) => {
      const id = guard(req, rawId);
      const body = (await readJson(req, 10_000)) as { status?: unknown } | null;
      const status = body?.status;
      if (!(USER_STATUSES as readonly unknown[]).includes(status))
        throw new ApiError('BAD_USER_INPUT', 'status must be ACTIVE or BLOCKED');
      const user = await store.setUserStatus(id, status as UserStatus);
      if (!user) throw new ApiError('NOT_FOUND', 'no such user');
      sendJson(res, 200, render(user));
    });
}

/** Not a standard scheme: it tells a caller which header the internal API wants instead of a JWT. */
const SERVICE_TOKEN_CHALLENGE = `ServiceToken header="${SERVICE_TOKEN_HEADER}"`;

/**
 * The internal API on a listener of its own (INTERNAL_HOST:INTERNAL_PORT, loopback by default), so
 * blocking a user is not one leaked service token away from anyone who can reach the public port.
 */
export async function serveInternalApi(
  routes: Router,
  address: { port: number; host: string },
  logger: Logger,
): Promise<RunningServer> {
  const dispatch = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = requestUrl(req);
    const outcome = url ? await routes.dispatch(req, res, url) : 'no-route';
    if (outcome === 'method-not-allowed') throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
    return outcome === 'handled';
  };
  const server = await startHttpServer(address, dispatch, {
    logger,
    tracer: tracerOf('gateway'),
    answerError: (res, e) => sendPublicError(res, toPublicError(e, logger), 'rest', SERVICE_TOKEN_CHALLENGE),
  });
  logger.info({ port: server.port, host: address.host }, 'internal API listening');
  return server;
}
