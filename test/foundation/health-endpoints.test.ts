import http from 'node:http';
import { Registry } from 'prom-client';
import { startHealthServer } from '../../common/health-server';
import { createLogger } from '../../common/logger';
import { scrapedGauge } from '../../common/metrics';

const silent = createLogger('test', 'silent');

/** `count` requests at once over their own connections; their statuses and how long they took. */
async function flood(url: string, count: number): Promise<{ statuses: number[]; seconds: number }> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: count });
  const started = Date.now();
  const statuses = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve, reject) =>
          http
            .get(url, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject),
        ),
    ),
  );
  agent.destroy();
  return { statuses, seconds: (Date.now() - started) / 1000 };
}

describe('health and metrics endpoints under a flood of anonymous requests', () => {
  it('ask each readiness check at most once a second, however many ask /readyz', async () => {
    let database = 0;
    let kafka = 0;
    const checks = {
      database: () => Promise.resolve(++database > 0),
      kafka: () => Promise.resolve(++kafka < 0), // not ready: a failing answer is shared too
    };
    const server = await startHealthServer(0, checks, new Registry(), silent);
    try {
      const { statuses, seconds } = await flood(`http://127.0.0.1:${server.port}/readyz`, 300);
      expect(new Set(statuses)).toEqual(new Set([503]));
      // One call a second at most; the flood takes well under a second, but a slow machine may not.
      expect(database).toBeLessThanOrEqual(1 + Math.ceil(seconds));
      expect(kafka).toBe(database);
    } finally {
      await server.stop();
    }
  });

  it('read a scraped gauge from its source at most once a second, however often /metrics is asked', async () => {
    let reads = 0;
    const registry = new Registry();
    scrapedGauge(registry, 'test_backlog', 'rows waiting', () => Promise.resolve(++reads), 1000);
    const server = await startHealthServer(0, {}, registry, silent);
    try {
      const { statuses, seconds } = await flood(`http://127.0.0.1:${server.port}/metrics`, 300);
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(reads).toBeGreaterThanOrEqual(1);
      expect(reads).toBeLessThanOrEqual(1 + Math.ceil(seconds));
    } finally {
      await server.stop();
    }
  });
});
