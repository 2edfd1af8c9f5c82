import type http from 'node:http';
import { readJson, sendJson } from '../../../common/http';
import type { Caller, TokenVerifier } from '../auth';
import { OPENAPI_DOCUMENT } from './openapi';
import type { PaymentService } from '../payment-service';
import { Router } from './router';
import { ApiError } from '../../../common/api-error';

/** The original REST API, over the same PaymentService and auth as GraphQL. */
export function restRoutes(service: PaymentService, tokens: TokenVerifier, bodyLimit: number): Router {
  const caller = (req: http.IncomingMessage): Caller => tokens.authenticate(req.headers.authorization);
  return new Router()
    .on('GET', /^\/api\/openapi\.json$/, (_req, res) => sendJson(res, 200, OPENAPI_DOCUMENT))
    .on('POST', /^\/api\/payments\/?$/, async (req, res) => {
      const who = caller(req);
      const body = await readJson(req, bodyLimit);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new ApiError('BAD_USER_INPUT', 'body must be a JSON object');
      const { userName, amount, currency, idempotencyKey } = body as Record<string, unknown>;
      if (typeof userName !== 'string') throw new ApiError('BAD_USER_INPUT', 'userName is required');
      if (userName !== who.userName) throw new ApiError('FORBIDDEN', 'userName must be your own');
      const payment = await service.createPayment(who, {
        amount,
        currency,
        idempotencyKey: idempotencyKey ?? req.headers['idempotency-key'],
      });
      sendJson(res, 201, { id: payment.id, status: payment.status }, { location: `/api/payments/${payment.id}` });
    })
    .on('GET', /^\/api\/payments\/?$/, async (req, res, _params, { searchParams: query }) => {
      const first = query.has('first') ? Number(query.get('first')) : undefined;
      const page = await service.listPayments(caller(req), {
        first,
        after: query.get('after') ?? undefined,
        status: query.get('status') ?? undefined,
      });
      sendJson(res, 200, {
        payments: page.edges.map((e) => e.node),
        pageInfo: page.pageInfo,
        totalCount: page.totalCount,
      });
    })
    .on('GET', /^\/api\/payments\/([^/]+)\/?$/, async (req, res, [id]) => {
      const payment = await service.getPayment(caller(req), id);
      if (!payment) throw new ApiError('NOT_FOUND', 'payment not found');
      sendJson(res, 200, payment);
    })
    .on('GET', /^\/api\/payments\/([^/]+)\/status\/?$/, async (req, res, [id]) => {
      const payment = await service.getPayment(caller(req), id);
      if (!payment) throw new ApiError('NOT_FOUND', 'payment not found');
      sendJson(res, 200, { id: payment.id, status: payment.status, reason: payment.reason });
    });
}
