import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/** Kafka's wire framing: a 4-byte size, then the request (API key at 4, correlation id at 8) or the response (correlation id at 4). */
const PRODUCE = 0;

/** Splits a byte stream into size-prefixed frames, handing each whole frame on. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = 4 + pending.readInt32BE(0);
      onFrame(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  };
}

export interface AnswerDropper {
  /** Every connection of a kafkajs client built with this goes through the dropper. */
  socketFactory: ISocketFactory;
  /**
   * The next Produce request is passed on to the broker, which writes it; its answer is then
   * thrown away and the client's connection reset, as when a broker or the network fails after
   * the write. Resolves once that request is on its way to the broker.
   */
  loseNextProduceAnswer(): Promise<void>;
  close(): Promise<void>;
}

/** A real TCP hop per broker of `brokers` (host:port, as advertised), between a kafkajs client and them. */
export async function startAnswerDropper(brokers: string[]): Promise<AnswerDropper> {
  let armed: (() => void) | undefined;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const hop = (host: string, port: number) =>
    net.createServer((client) => {
      const upstream = net.connect(port, host);
      [client, upstream].forEach(track);
      let dropping: number | undefined;
      client.on(
        'data',
        framer((frame) => {
          if (armed && frame.readInt16BE(4) === PRODUCE) {
            dropping = frame.readInt32BE(8);
            setImmediate(armed);
            armed = undefined;
          }
          upstream.write(frame);
        }),
      );
      upstream.on(
        'data',
        framer((frame) => {
          if (frame.readInt32BE(4) !== dropping) client.write(frame);
          else [client, upstream].forEach((s) => s.destroy());
        }),
      );
    });
  const hops = new Map<string, number>();
  const servers: net.Server[] = [];
  for (const broker of brokers) {
    const [host, port] = broker.split(':') as [string, string];
    const server = hop(host, Number(port));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    hops.set(broker, (server.address() as net.AddressInfo).port);
  }
  return {
    socketFactory: ({ host, port, onConnect }) => {
      const via = hops.get(`${host}:${port}`);
      if (via === undefined) throw new Error(`no hop for broker ${host}:${port}`);
      return net.connect({ host: '127.0.0.1', port: via }, onConnect);
    },
    loseNextProduceAnswer: () => new Promise<void>((resolve) => (armed = resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
