import WebSocket from 'ws';

export type WsOutcome =
  { kind: 'closed'; code: number; reason: string } | { kind: 'message'; type: string; payload: unknown; raw: string };

/**
 * A graphql-ws (graphql-transport-ws) socket driven by hand, so a test can send what a well-behaved
 * client library never would, and see exactly what comes back: the first answer, or the close.
 */
export class RawGraphQLWs {
  private constructor(private readonly socket: WebSocket) {}

  static async open(url: string, initPayload: unknown): Promise<{ ws: RawGraphQLWs; ack: WsOutcome }> {
    const socket = new WebSocket(url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const ws = new RawGraphQLWs(socket);
    const ack = ws.next();
    socket.send(JSON.stringify({ type: 'connection_init', payload: initPayload }));
    return { ws, ack: await ack };
  }

  /** Sends a raw frame (any text at all) and resolves the first answer or the close. */
  send(frame: string): Promise<WsOutcome> {
    const answer = this.next();
    this.socket.send(frame);
    return answer;
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): Promise<WsOutcome> {
    return this.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
  }

  close(): void {
    this.socket.close();
  }

  private next(timeoutMs = 10_000): Promise<WsOutcome> {
    if (this.socket.readyState !== WebSocket.OPEN)
      return Promise.resolve({ kind: 'closed', code: 0, reason: 'not open' });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(() => reject(new Error(`no WebSocket answer within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const onMessage = (data: WebSocket.RawData) => {
        // graphql-ws sends text frames: one Buffer each.
        const raw = (data as Buffer).toString();
        const parsed = JSON.parse(raw) as { type: string; payload?: unknown };
        if (parsed.type === 'ping' || parsed.type === 'pong') return;
        done(() => resolve({ kind: 'message', type: parsed.type, payload: parsed.payload, raw }));
      };
      const onClose = (code: number, reason: Buffer) =>
        done(() => resolve({ kind: 'closed', code, reason: reason.toString() }));
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        this.socket.off('close', onClose);
        settle();
      };
      this.socket.on('message', onMessage);
      this.socket.on('close', onClose);
    });
  }
}
