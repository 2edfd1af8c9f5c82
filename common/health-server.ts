import http from 'node:http';
import type { Logger } from './logger';
import { handleHealth, sendJson, type ReadinessCheck } from './http';

/** For services whose only HTTP is health (and a few internal routes): `/healthz`, `/readyz`. */
export async function startHealthServer(
  port: number,
  checks: Record<string, ReadinessCheck>,
  logger: Logger,
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (await handleHealth(req, res, checks)) return;
        if (routes && (await routes(req, res))) return;
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
      } catch (e) {
        logger.error({ err: e }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' } });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  return server;
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
