import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { API_ERROR_STATUS, type ApiErrorCode } from './api-error';
import type { Stoppable } from './lifecycle';
import type { Logger } from './logger';
import type { Registry } from 'prom-client';
import type { Tracer } from '@opentelemetry/api';
import { traceRequest } from './http-tracing';
import { handleHealth, readinessOf, sendJson, type ReadinessCheck } from './http';
import { handleMetrics } from './metrics';

/**
 * A request Node's HTTP parser refused (a malformed request line or Content-Length, headers too
 * large, chunk extensions too large, too slow), answered as JSON like every other 4xx here:
 * Node's own answer has no body.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable || mustNotAnswer(socket)) return void socket.destroy();
  const [code, message] = CLIENT_ERRORS[error.code ?? ''] ?? CLIENT_ERRORS.default!;
  const status = API_ERROR_STATUS[code];
  const body = JSON.stringify({ error: { code, message } });
  // The server allows half-open sockets: without the destroy, the socket would wait for the client to close it.
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * Whether an answer now would be read as another request's, or this one's has gone out already.
 * A response under way for another request (keep-alive, pipelining) would take it for its own.
 * A body refused as it streams in (chunk extensions too large) is about the request being read,
 * still incomplete: it is answered while that request's own response has sent nothing, and not
 * once that response has gone out (a handler that answered before reading the body), when a
 * keep-alive client would take it for the answer to its next request. A request read in full is
 * not what the parser refused (the parser keeps it as `incoming` until the next one).
 */
function mustNotAnswer(socket: Duplex): boolean {
  const { _httpMessage: current, parser } = socket as Duplex & {
    _httpMessage?: http.ServerResponse | null;
    parser?: { incoming?: http.IncomingMessage | null } | null;
  };
  const reading = parser?.incoming;
  const bodyRefused = reading && !reading.complete ? reading : undefined;
  if (!current) return bodyRefused !== undefined;
  return current.headersSent || current.req !== bodyRefused;
}

const CLIENT_ERRORS: Record<string, [ApiErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['HEADERS_TOO_LARGE', 'the request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ['PAYLOAD_TOO_LARGE', 'the chunk extensions of the request body are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'the request did not arrive in time'],
  default: ['BAD_REQUEST', 'the request is not valid HTTP/1.1'],
};

/** Handles a request if it is theirs; false lets the server answer 404. */
export type Routes = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

/** How a failed request is answered: by default a 500 that carries an error id, never internals. */
export type ErrorAnswer = (res: http.ServerResponse, error: unknown) => void;

/** A listening server: the port it bound (0 picks one), and stop() closes it after the requests in flight. */
export interface RunningServer extends Stoppable {
  port: number;
}

/**
 * Listens on `address` and hands the server back as a part to stop. `backlog`: connections the
 * kernel holds until the process accepts them (Node's default is 511, capped by
 * net.core.somaxconn). A connection beyond it is dropped, and the client's SYN is retried after 1,
 * 3, 7, 15... seconds: a burst of new connections then waits a minute, not a turn.
 */
export async function listen(
  server: http.Server,
  address: { port: number; host: string; backlog?: number },
): Promise<RunningServer> {
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: address.port, host: address.host, backlog: address.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { port: (server.address() as AddressInfo).port, stop: () => closeServer(server) };
}

export interface HttpServerOptions {
  logger: Logger;
  /** Serve each request in a span of this tracer (see traceRequest). */
  tracer?: Tracer;
  answerError?: ErrorAnswer;
}

/** An HTTP listener for a set of routes, with JSON 404s. */
export function startHttpServer(
  address: { port: number; host: string },
  routes: Routes,
  o: HttpServerOptions,
): Promise<RunningServer> {
  const answer = o.answerError ?? internalError(o.logger);
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      if (await routes(req, res)) return;
      sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    } catch (e) {
      if (res.headersSent) res.destroy();
      else answer(res, e);
    }
  };
  const server = http.createServer(
    (req, res) => void (o.tracer ? traceRequest(o.tracer, req, res, () => serve(req, res)) : serve(req, res)),
  );
  return listen(server, address);
}

const internalError =
  (logger: Logger): ErrorAnswer =>
  (res, e) => {
    // The id ties the answer to the log line without showing the caller any internals.
    const errorId = randomUUID();
    logger.error({ err: e, errorId }, 'request failed');
    sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error', errorId } });
  };

/** For services whose only public HTTP is health and metrics: `/healthz`, `/readyz`, `/metrics`, on every interface for probes and Prometheus. */
export const startHealthServer = (
  port: number,
  checks: Record<string, ReadinessCheck>,
  metrics: Registry,
  logger: Logger,
): Promise<RunningServer> => {
  const readiness = readinessOf(checks);
  return startHttpServer(
    { port, host: '0.0.0.0' },
    async (req, res) => (await handleHealth(req, res, readiness)) || handleMetrics(req, res, metrics),
    { logger },
  );
};

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
