import http from 'node:http';
import https from 'node:https';

/** How a POST ended: an answer with its status and body, or no answer at all. */
export type PostOutcome = { kind: 'answered'; status: number; body: string } | { kind: 'lost'; error: string };

/** Far above any lookup answer; a body past it is no answer this client can use. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * One keep-alive pool per protocol. node:http, not fetch: in money-storage's profile under load,
 * fetch (undici and its web streams) took 18 % of the process for the user lookups alone.
 * `timeout` lets an idle socket go before the server closes it (Node's server keeps one 5 s, and
 * the agent honours its `Keep-Alive: timeout` hint only below this), so a request is rarely sent
 * on a socket the server is closing; when it is, the caller's retry takes a fresh one.
 */
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 16, timeout: 4000 };
const AGENTS = { 'http:': new http.Agent(AGENT_OPTIONS), 'https:': new https.Agent(AGENT_OPTIONS) };

/**
 * POSTs a JSON body and reads the whole answer. Never rejects: a request that cannot be made, a
 * refused connection, a timeout (`timeoutMs` for the whole exchange) or an answer cut off on the
 * way is `lost`.
 */
export function postJson(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const end = (outcome: PostOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => req?.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    let req: http.ClientRequest | undefined;
    try {
      const secure = url.protocol === 'https:';
      req = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          agent: secure ? AGENTS['https:'] : AGENTS['http:'],
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => readAnswer(res, end),
      );
    } catch (e) {
      // A URL or header Node refuses before anything is sent.
      end({ kind: 'lost', error: (e as Error).message });
      return;
    }
    req.on('error', (e) => end({ kind: 'lost', error: e.message }));
    req.end(body);
  });
}

function readAnswer(res: http.IncomingMessage, end: (outcome: PostOutcome) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) res.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
    else chunks.push(chunk);
  });
  res.on('end', () => {
    // 'end' after an abort would hand over a partial body as if it were whole.
    if (res.complete)
      end({ kind: 'answered', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
    else end({ kind: 'lost', error: 'answer cut off' });
  });
  res.on('error', (e) => end({ kind: 'lost', error: e.message }));
  res.on('close', () => end({ kind: 'lost', error: 'answer cut off' }));
}
