import http from 'node:http';
import https from 'node:https';

/** How a POST ended: an answer with its status and body, or no answer at all. */
export type PostOutcome = { kind: 'answered'; status: number; body: string } | { kind: 'lost'; error: string };

/**
 * One keep-alive pool per protocol. node:http, not fetch: in money-storage's profile under load,
 * fetch (undici and its web streams) took 18 % of the process for the user lookups alone.
 */
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

/**
 * POSTs a JSON body and reads the whole answer. Never rejects: a refused connection, a timeout
 * (`timeoutMs` for the whole exchange) or an answer cut off on the way is `lost`.
 */
export function postJson(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  const agent = url.protocol === 'https:' ? AGENTS['https:'] : AGENTS['http:'];
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const end = (outcome: PostOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = transport.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          // 'end' after an abort would hand over a partial body as if it were whole.
          if (res.complete)
            end({ kind: 'answered', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          else end({ kind: 'lost', error: 'answer cut off' });
        });
        res.on('error', (e) => end({ kind: 'lost', error: e.message }));
        res.on('close', () => end({ kind: 'lost', error: 'answer cut off' }));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => end({ kind: 'lost', error: e.message }));
    req.end(body);
  });
}
