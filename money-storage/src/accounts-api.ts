import type http from 'node:http';
import { sendJson } from '../../common/http';
import { isUserId } from '../../common/ids';
import { hasServiceToken } from '../../common/service-token';
import type { Ledger } from './ledger';

const ROUTE = /^\/internal\/accounts\/([^/]+)$/;

/** `GET /internal/accounts/:userId` for other services (the gateway's `myAccounts`), behind the service token. */
export function accountsRoutes(ledger: Ledger, serviceToken: string) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const match = ROUTE.exec(req.url?.split('?')[0] ?? '');
    if (!match) return false;
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET' } }, { allow: 'GET' });
      return true;
    }
    if (!hasServiceToken(req, serviceToken)) {
      sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'a valid x-service-token header is required' } });
      return true;
    }
    const userId = decodeURIComponent(match[1]!);
    if (!isUserId(userId)) {
      sendJson(res, 400, { error: { code: 'BAD_USER_ID', message: 'userId must be a positive bigint' } });
      return true;
    }
    // A user without accounts is not an error here: money-storage does not know who exists.
    sendJson(res, 200, { userId, accounts: await ledger.balances(userId) });
    return true;
  };
}
