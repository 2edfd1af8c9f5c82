import { context, SpanKind, trace, type Span, type Tracer } from '@opentelemetry/api';
import type pg from 'pg';
import { endSpan } from './tracing';

type QueryArgs = unknown[];
type Callback = (error: Error | null, result: unknown) => void;

/** `SELECT`, `INSERT`, `WITH`...: the statement's first word, a low-cardinality span name. */
function operationOf(args: QueryArgs): string {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? (/^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY') : 'QUERY';
}

/**
 * A CLIENT span for every query a pooled client runs inside a recorded trace (a request, a
 * message), named by its operation. The statement text is not recorded: it is ours, and the
 * values never are. A query outside any recorded span costs one check.
 */
export function tracePool(pool: pg.Pool, tracer: Tracer): void {
  // pg runs pool.query's work in a connect callback, which may fire from another caller's release:
  // binding it keeps each query in the trace of whoever asked.
  const connect = pool.connect.bind(pool) as (cb?: (...a: unknown[]) => void) => unknown;
  pool.connect = ((cb?: (...a: unknown[]) => void) =>
    connect(cb && context.bind(context.active(), cb))) as typeof pool.connect;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: QueryArgs) => unknown;
    client.query = ((...args: QueryArgs) => {
      if (!trace.getSpan(context.active())?.isRecording()) return query(...args);
      const operation = operationOf(args);
      const span = tracer.startSpan(`pg ${operation}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'postgresql', 'db.operation.name': operation },
      });
      return runTraced(span, query, args);
    }) as typeof client.query;
  });
}

function runTraced(span: Span, query: (...args: QueryArgs) => unknown, args: QueryArgs): unknown {
  const callbackAt = args.findIndex((a) => typeof a === 'function');
  if (callbackAt >= 0) {
    const callback = args[callbackAt] as Callback;
    args[callbackAt] = ((error, result) => {
      endSpan(span, error ?? undefined);
      callback(error, result);
    }) satisfies Callback;
    return query(...args);
  }
  const result = query(...args);
  if (!(result instanceof Promise)) {
    span.end(); // a Submittable (cursor): its rows arrive later, outside this span
    return result;
  }
  return result.then(
    (rows: unknown) => (span.end(), rows),
    (e: unknown) => {
      endSpan(span, e);
      throw e;
    },
  );
}
