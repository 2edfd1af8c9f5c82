import type http from 'node:http';
import { ApiError } from './api-error';
import { cachedFor } from './cached-for';

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Reads a body up to `limit` bytes; a larger one is refused with 413 before it is buffered. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new ApiError('PAYLOAD_TOO_LARGE', `body exceeds ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ApiError('PAYLOAD_TOO_LARGE', `body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The request's target as a URL on a fixed origin, or undefined when it is not one. A target
 * starting with `/` is read as a path: `new URL('//x/graphql', base)` would take `x` for a host and
 * route the request to `/graphql`, and `//` alone throws. So `//x/graphql` has that whole path,
 * which no route has (a 404), as a proxy that normalizes nothing would also see it.
 */
export function requestUrl(req: http.IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target, 'http://localhost');
  } catch {
    return undefined;
  }
}

export async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError('BAD_JSON', 'request body is not valid JSON');
  }
}

export type ReadinessCheck = () => Promise<boolean>;
/** Whether every dependency answers, and which does not. */
export type Readiness = () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;

const READINESS_CACHE_MS = 1000;

/**
 * The checks asked at most once a second, whoever asks: `/readyz` needs no token, and a flood of
 * it would otherwise queue a database round trip per request ahead of real work on the pool.
 */
export function readinessOf(checks: Record<string, ReadinessCheck>): Readiness {
  return cachedFor(READINESS_CACHE_MS, async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
    );
    return { ready: entries.every(([, ok]) => ok), checks: Object.fromEntries(entries) };
  });
}

/**
 * `/healthz`: the process is alive. `/readyz`: each dependency answers; 503 lists which does not.
 * Returns true when it handled the request.
 */
export async function handleHealth(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  readiness: Readiness,
): Promise<boolean> {
  const url = req.url?.split('?')[0];
  if (url === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  if (url === '/readyz') {
    const { ready, checks } = await readiness();
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
    return true;
  }
  return false;
}
