import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Logger } from './logger';
import { handleHealth, sendJson, type ReadinessCheck } from './http';

/** For services whose only HTTP is health (and a few internal routes): `/healthz`, `/readyz`. */
export async function startHealthServer(
  port: number,
  checks: Record<string, ReadinessCheck>,
  logger: Logger,
  routes?: Routes,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (await handleHealth(req, res, checks)) return;
        if (routes && (await routes(req, res))) return;
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
      } catch (e) {
        // The id ties the answer to the log line without showing the caller any internals.
        const errorId = randomUUID();
        logger.error({ err: e, errorId }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error', errorId } });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  return server;
}

export type Routes = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
