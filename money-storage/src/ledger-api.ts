import type http from 'node:http';
import { sendJson } from '../../common/http';
import { isUserId } from '../../common/ids';
import { isServiceToken } from './accounts-api';
import type { Ledger, LedgerEntry } from './ledger';

const ROUTE = /^\/internal\/ledger\/([^/?]+)$/;
export const MAX_LEDGER_PAGE = 200;
const POSITIVE_ID = /^[1-9][0-9]{0,15}$/;

/**
 * `GET /internal/ledger/:userId?first=&after=` for the gateway's `myLedger`, behind the service
 * token: the statement of every movement on the user's accounts, newest first.
 */
export function ledgerRoutes(ledger: Ledger, serviceToken: string) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = ROUTE.exec(url.pathname);
    if (!match) return false;
    if (req.method !== 'GET') return refuse(res, 405, 'METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
    if (!isServiceToken(req.headers['x-service-token'], serviceToken)) return refuse(res, 401, 'UNAUTHENTICATED', 'a valid x-service-token header is required');
    const userId = match[1]!;
    const first = Number(url.searchParams.get('first') ?? 50);
    const after = url.searchParams.get('after');
    if (!isUserId(userId) || !Number.isInteger(first) || first < 0 || first > MAX_LEDGER_PAGE || (after !== null && !POSITIVE_ID.test(after))) {
      return refuse(res, 400, 'BAD_USER_INPUT', `userId, first (0-${MAX_LEDGER_PAGE}) or after is malformed`);
    }
    const page = await ledger.history(userId, first, after === null ? undefined : Number(after));
    sendJson(res, 200, { entries: page.entries.map(render), hasNextPage: page.hasNextPage });
    return true;
  };
}

function refuse(res: http.ServerResponse, status: number, code: string, message: string, headers: http.OutgoingHttpHeaders = {}): true {
  sendJson(res, status, { error: { code, message } }, headers);
  return true;
}

const render = (e: LedgerEntry) => ({
  id: String(e.id),
  operationId: e.operationId,
  kind: e.kind,
  purpose: e.purpose,
  paymentId: e.paymentId,
  currency: e.currency,
  amount: e.amount,
  balanceAfter: e.balanceAfter,
  at: e.createdAt.toISOString(),
});
