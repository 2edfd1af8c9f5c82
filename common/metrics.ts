import type http from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { withTimeout } from './with-timeout';

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

/** One answer shared by every call for `ttlMs`, so frequent scrapes cost the dependency one call. */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let cached: { value: Promise<T>; at: number } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at >= ttlMs) {
      const entry = { value: load(), at: Date.now() };
      cached = entry;
      // A failure is not kept: the next scrape asks again.
      entry.value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}

/**
 * A gauge whose value is read at scrape time within `timeoutMs`. When the read fails or is too
 * slow it shows NaN, so a dashboard shows a gap rather than a stale or made-up number.
 */
export function scrapedGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => Promise<number>,
  timeoutMs: number,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await withTimeout(read(), timeoutMs, name).catch(() => NaN));
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
