import type http from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { cachedFor } from './cached-for';
import { withTimeout } from './with-timeout';

const SCRAPE_CACHE_MS = 1000;

/**
 * The registry of one running service: default process metrics plus the service's own, every
 * series labelled `service` so one Prometheus query can tell them apart (and so can tests that
 * run several services in one process, each with a registry of its own).
 */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `GET /metrics` in the text exposition format. No token: Prometheus scrapes it, so the port must
 * not be reachable from the internet (see docs/operations.md). Returns true when it handled the request.
 */
export async function handleMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  registry: Registry,
): Promise<boolean> {
  if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return false;
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return true;
}

/**
 * A gauge whose value is read at scrape time within `timeoutMs`, at most a second old. When the
 * read fails or is too slow it shows NaN, so a dashboard shows a gap rather than a made-up number.
 */
export function scrapedGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => Promise<number>,
  timeoutMs: number,
): void {
  // However often /metrics is asked for, the database or broker behind it is asked once a second.
  const reading = cachedFor(SCRAPE_CACHE_MS, () => withTimeout(read(), timeoutMs, name));
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await reading().catch(() => NaN));
    },
  });
}

/** A gauge that reads an in-process number at scrape time: nothing to wait for, nothing on the hot path. */
export function liveGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
