import http from 'node:http';
import net from 'node:net';
import { listen, type RunningServer } from '../../common/health-server';

/**
 * What `listen` answers for HTTP that Node's parser refuses, on a real server and raw sockets:
 * JSON where the answer can only be read as this request's, and nothing where a response to an
 * earlier request of the socket is under way.
 */
let server: RunningServer;
let releaseSlow: () => void = () => undefined;

beforeAll(async () => {
  const handler = http.createServer((req, res) => {
    if (req.url === '/early') {
      res.end('early');
      return;
    }
    if (req.url === '/slow') {
      releaseSlow = () => res.end('slow');
      return;
    }
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  server = await listen(handler, { port: 0, host: '127.0.0.1' });
});

afterAll(() => server.stop());

/**
 * Writes `request`, then `next` once what has been read ends with `after`, and reads everything
 * until the server closes.
 */
function exchange(request: string, then?: { after: string; next: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString();
      if (then && text.endsWith(then.after)) socket.write(then.next);
    });
    socket.on('close', () => resolve(text));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' && text ? undefined : reject(e)));
  });
}

const jsonAnswer = (text: string) => ({
  status: /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1],
  body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown,
});

const NOT_HTTP = 'GET\u0000 / HTTP/1.1\r\n\r\n';

describe('answers to HTTP the parser refuses', () => {
  it('a request line that is not HTTP: 400 in JSON', async () => {
    expect(jsonAnswer(await exchange(NOT_HTTP))).toEqual({
      status: '400',
      body: { error: { code: 'BAD_REQUEST', message: 'the request is not valid HTTP/1.1' } },
    });
  });

  it('chunk extensions too large on the request being answered: 413 in JSON', async () => {
    const text = await exchange(
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(20_000)}\r\nx\r\n0\r\n\r\n`,
    );
    expect(jsonAnswer(text)).toMatchObject({ status: '413', body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('after an earlier request of the socket was answered in full: 400 in JSON after that answer', async () => {
    const text = await exchange('GET / HTTP/1.1\r\nHost: x\r\n\r\n', { after: 'ok', next: NOT_HTTP });
    const second = text.indexOf('HTTP/1.1', 1);
    expect(text.slice(0, second)).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*ok$/);
    expect(jsonAnswer(text.slice(second))).toMatchObject({ status: '400', body: { error: { code: 'BAD_REQUEST' } } });
  });

  it('chunk extensions too large after the request was answered early: the socket is closed, with no second answer', async () => {
    const text = await exchange(
      `POST /early HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(20_000)}\r\nx\r\n0\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*early$/);
  });

  it('pipelined behind a request still being answered: the socket is closed, with no answer it would take for its own', async () => {
    const closed = exchange(`GET /slow HTTP/1.1\r\nHost: x\r\n\r\n${NOT_HTTP}`);
    expect(await closed).toBe('');
    releaseSlow();
  });
});
