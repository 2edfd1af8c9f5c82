import type http from 'node:http';
import { API_ERROR_STATUS, type ApiErrorCode } from '../../common/api-error';
import { requestUrl, sendJson } from '../../common/http';
import { isUserId, type UserId } from '../../common/ids';
import { hasServiceToken, SERVICE_TOKEN_HEADER } from '../../common/service-token';
import type { Ledger, LedgerEntry } from './ledger';
import { LEDGER_ENTRY_ID, MAX_LEDGER_PAGE } from '../../common/ledger-page';

const ROUTE = /^\/internal\/(accounts|ledger)\/([^/]+)$/;

type Answer = { status: number; body: unknown; headers?: http.OutgoingHttpHeaders };
const refusal = (code: ApiErrorCode, message: string, headers?: http.OutgoingHttpHeaders): Answer => ({
  status: API_ERROR_STATUS[code],
  body: { error: { code, message } },
  headers,
});

/**
 * Money-storage's internal API, for the gateway, behind the service token:
 * `GET /internal/accounts/:userId` (balances, for `myAccounts`) and
 * `GET /internal/ledger/:userId?first=&after=` (the statement, newest first, for `myLedger`).
 * A user without accounts is not an error here: money-storage does not know who exists.
 */
export function internalRoutes(ledger: Ledger, serviceToken: string) {
  const answer = async (
    req: http.IncomingMessage,
    resource: string,
    rawUserId: string,
    query: URLSearchParams,
  ): Promise<Answer> => {
    if (req.method !== 'GET') return refusal('METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
    if (!hasServiceToken(req, serviceToken))
      return refusal('UNAUTHENTICATED', `a valid ${SERVICE_TOKEN_HEADER} header is required`);
    if (!isUserId(rawUserId)) return refusal('BAD_USER_INPUT', 'userId must be a positive bigint');
    return resource === 'accounts'
      ? { status: 200, body: { userId: rawUserId, accounts: await ledger.balances(rawUserId) } }
      : history(ledger, rawUserId, query);
  };
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = requestUrl(req);
    const match = url && ROUTE.exec(url.pathname);
    if (!match) return false;
    const { status, body, headers } = await answer(req, match[1]!, match[2]!, url.searchParams);
    sendJson(res, status, body, headers);
    return true;
  };
}

async function history(ledger: Ledger, userId: UserId, query: URLSearchParams): Promise<Answer> {
  const first = Number(query.get('first') ?? 50);
  const after = query.get('after');
  if (
    !Number.isInteger(first) ||
    first < 0 ||
    first > MAX_LEDGER_PAGE ||
    (after !== null && !LEDGER_ENTRY_ID.test(after))
  ) {
    return refusal('BAD_USER_INPUT', `first (0-${MAX_LEDGER_PAGE}) or after is malformed`);
  }
  const page = await ledger.history(userId, first, after === null ? undefined : Number(after));
  return { status: 200, body: { entries: page.entries.map(render), hasNextPage: page.hasNextPage } };
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
