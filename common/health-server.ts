import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Logger } from './logger';
import { handleHealth, sendJson, type ReadinessCheck } from './http';

/** Handles a request if it is theirs; false lets the server answer 404. */
export type Routes = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

/** An HTTP listener for a set of routes, with JSON 404s and 500s that carry an error id, never internals. */
export async function startHttpServer(address: { port: number; host: string }, routes: Routes, logger: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (await routes(req, res)) return;
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
      } catch (e) {
        // The id ties the answer to the log line without showing the caller any internals.
        const errorId = randomUUID();
        logger.error({ err: e, errorId }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error', errorId } });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, resolve);
  });
  return server;
}

/** For services whose only public HTTP is health: `/healthz`, `/readyz`, on every interface for probes. */
export const startHealthServer = (port: number, checks: Record<string, ReadinessCheck>, logger: Logger): Promise<http.Server> =>
  startHttpServer({ port, host: '0.0.0.0' }, (req, res) => handleHealth(req, res, checks), logger);

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
