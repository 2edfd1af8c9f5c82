import { readingsBetween } from '../../bench/gateway-readings';
import { parseExposition, Scrape } from '../../common/prometheus-text';
import { GatewayMetrics } from '../../gateway/src/metrics';

/** The gateway's own series, as its `/metrics` would serve them now. */
const scrapeOf = async (metrics: GatewayMetrics): Promise<Scrape> =>
  new Scrape(parseExposition(await metrics.registry.metrics()));

describe('the bench reading the gateway’s /metrics around a run', () => {
  it('counts only what happened between the two scrapes: refusals by signal and each step’s times', async () => {
    const metrics = new GatewayMetrics();
    metrics.createStage('insert', 0.5); // before the run: not counted
    metrics.admissionRefused({ signal: 'pace', value: 101, limit: 100 });
    const before = await scrapeOf(metrics);

    for (const ms of [2, 3, 4, 40]) metrics.createStage('insert', ms / 1000);
    for (let i = 0; i < 99; i++) metrics.createStage('publish', 0.008);
    metrics.createStage('publish', 3); // past the last bucket
    for (let i = 0; i < 3; i++) metrics.admissionRefused({ signal: 'concurrency', value: 64, limit: 64 });
    const after = await scrapeOf(metrics);

    expect(readingsBetween(before, after)).toEqual({
      refusedBy: { concurrency: 3 },
      stagesMs: {
        insert: { count: 4, mean: 12.3, p50AtMost: 5, p99AtMost: 50 },
        publish: { count: 100, mean: 37.9, p50AtMost: 10, p99AtMost: 10 },
      },
    });
  });

  it('puts a p99 past the last bucket as null, not as a number it does not know', async () => {
    const metrics = new GatewayMetrics();
    const before = await scrapeOf(metrics);
    metrics.createStage('mark', 3);
    const stages = readingsBetween(before, await scrapeOf(metrics))?.stagesMs;
    expect(stages).toEqual({ mark: { count: 1, mean: 3000, p50AtMost: null, p99AtMost: null } });
  });

  it('says nothing when either scrape is missing (the gateway did not answer)', async () => {
    const scrape = await scrapeOf(new GatewayMetrics());
    expect(readingsBetween(undefined, scrape)).toBeUndefined();
    expect(readingsBetween(scrape, undefined)).toBeUndefined();
  });
});
