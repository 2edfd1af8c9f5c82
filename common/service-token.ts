import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** The header other services put `INTERNAL_SERVICE_TOKEN` in. */
export const SERVICE_TOKEN_HEADER = 'x-service-token';

/** Compared in constant time, so the token cannot be guessed a byte at a time from response latency. */
export function hasServiceToken(req: http.IncomingMessage, expected: string): boolean {
  const given = req.headers[SERVICE_TOKEN_HEADER];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
