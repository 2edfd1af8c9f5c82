import type http from 'node:http';

/** What a browser may send cross-origin: the REST facade's and GraphQL's methods and headers, nothing more. */
export const CORS_ALLOW_METHODS = 'GET, POST, OPTIONS';
export const CORS_ALLOW_HEADERS = 'authorization, content-type, idempotency-key';
/** Headers a cross-origin script needs to read to follow the REST conventions (created resource, back-off, auth challenge). */
const CORS_EXPOSE_HEADERS = 'location, retry-after, www-authenticate';
/** How long a browser may cache a preflight answer; short, so a narrowed allow-list bites soon. */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * CORS over an exact allow-list of origins (CORS_ORIGINS): an allowed origin is echoed back, any
 * other gets no CORS header at all, so the browser keeps the answer from its script. Answers a
 * preflight (OPTIONS) itself and returns true then; otherwise only sets headers and returns false.
 */
export function applyCors(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  allowedOrigins: ReadonlySet<string>,
): boolean {
  // The answer depends on Origin, so no shared cache may hand one origin's answer to another.
  res.setHeader('vary', 'Origin');
  const origin = req.headers.origin;
  const allowed = typeof origin === 'string' && allowedOrigins.has(origin);
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
  }
  if (req.method !== 'OPTIONS') return false;
  const preflight: http.OutgoingHttpHeaders = allowed
    ? {
        'access-control-allow-methods': CORS_ALLOW_METHODS,
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      }
    : {};
  res.writeHead(204, { allow: CORS_ALLOW_METHODS, ...preflight });
  res.end();
  return true;
}

/** `https://app.example.com[:port]` and nothing else: no path, query, credentials or trailing slash. */
export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}
