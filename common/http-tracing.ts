import type http from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { recordFailure } from './tracing';

/** Probes and scrapes come every few seconds and belong to no payment: they get no span. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/** Ids in a path (user ids, payment ids) would make every span name unique; they become `:id`. */
const routeOf = (path: string): string => path.replace(/\/[^/]*\d[^/]*/g, '/:id');

/**
 * Serves a request inside a SERVER span that continues the caller's `traceparent`, so a payment's
 * trace starts where its client's does; what the handler logs and queries belongs to that span.
 */
export function traceRequest(
  tracer: Tracer,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  handle: () => Promise<void>,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (UNTRACED.has(path)) return handle();
  const method = req.method ?? 'GET';
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(
    `${method} ${routeOf(path)}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } },
    parent,
  );
  let failure: unknown;
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (failure !== undefined) recordFailure(span, failure);
    else if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  // The 'close' listener ends the span, also after a failure (whose answer is sent by the caller).
  return context.with(trace.setSpan(parent, span), handle).catch((e: unknown) => {
    failure = e;
    throw e;
  });
}
