import net from 'node:net';
import { ConfigError } from '../common/config';

/**
 * Ports this process already handed out: the OS may offer a port again until its new owner binds
 * it, and a launcher picks several (gateway, its internal API, money-storage...) before any binds.
 */
const handedOut = new Set<number>();

/** Asks the OS for a port nobody listens on and this process has not handed out yet. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await osFreePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * A free port `base` with `base + stride·i` free too for every `i < count`: the ports of replicas
 * that each add `stride` to their service's base port.
 */
export async function freePortBlock(count: number, stride: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    const others = Array.from({ length: count - 1 }, (_, i) => base + stride * (i + 1));
    if (others.some((p) => p > 65_535 || handedOut.has(p))) continue;
    if ((await Promise.all(others.map(portInUse))).some(Boolean)) continue;
    others.forEach((p) => handedOut.add(p));
    return base;
  }
}

function osFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something already listens on `port` (on any interface). */
function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(true) : reject(e)));
    server.listen(port, () => server.close(() => resolve(false)));
  });
}

/**
 * Fails before anything starts when a fixed port is taken, naming the variable that moves it:
 * otherwise the clash surfaces minutes later as a broker or service that never becomes ready.
 */
export async function requirePortsFree(ports: Array<[variable: string, port: number]>): Promise<void> {
  const taken: string[] = [];
  for (const [variable, port] of ports) {
    if (port !== 0 && (await portInUse(port)))
      taken.push(`port ${port} is in use: stop what listens there, or set ${variable} to a free port`);
  }
  if (taken.length > 0) throw new ConfigError(taken);
}
