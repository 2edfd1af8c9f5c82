import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { HttpError, readJson, sendJson } from '../../../common/http';
import { isUserId, type UserId } from '../../../common/ids';
import { userStatus, type UserStatus } from '../../db/schema';
import type { PaymentStore } from '../payment-store';
import { Router } from './router';

export function hasServiceToken(req: http.IncomingMessage, token: string): boolean {
  const given = Buffer.from(String(req.headers['x-service-token'] ?? ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** For other services (money-storage) and operators: never exposed to users, always behind the service token. */
export function internalRoutes(store: PaymentStore, serviceToken: string): Router {
  const guard = (req: http.IncomingMessage, rawId: string | undefined): UserId => {
    if (!hasServiceToken(req, serviceToken)) throw new HttpError(401, 'UNAUTHENTICATED', 'missing or wrong x-service-token');
    if (!rawId || !isUserId(rawId)) throw new HttpError(400, 'BAD_USER_INPUT', 'user id must be a positive integer');
    return rawId;
  };
  const render = (u: { id: UserId; userName: string; status: UserStatus }) => ({ id: u.id, userName: u.userName, status: u.status });
  return new Router()
    .on('GET', /^\/internal\/users\/([^/]+)$/, async (req, res, [rawId]) => {
      const user = await store.findUser(guard(req, rawId));
      if (!user) throw new HttpError(404, 'NOT_FOUND', 'no such user');
      sendJson(res, 200, render(user));
    })
    .on('PUT', /^\/internal\/users\/([^/]+)\/status$/, async (req, res, [rawId]) => {
      const id = guard(req, rawId);
      const body = (await readJson(req, 10_000)) as { status?: unknown } | null;
      const status = body?.status;
      if (!(userStatus as readonly unknown[]).includes(status)) throw new HttpError(400, 'BAD_USER_INPUT', 'status must be ACTIVE or BLOCKED');
      const user = await store.setUserStatus(id, status as UserStatus);
      if (!user) throw new HttpError(404, 'NOT_FOUND', 'no such user');
      sendJson(res, 200, render(user));
    });
}
