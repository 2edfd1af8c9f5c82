import type { GatewayClient } from '../../client/gateway-client';
import { sleep } from '../../common/sleep';
import { CreatePayment } from '../../client/operations';

/**
 * Clients creating payments as fast as `concurrency` allows, until `stop()` or `limit`.
 * Only payments the gateway acknowledged (answered with an id) count: those must never be lost.
 */
export class PaymentLoad {
  readonly acknowledged: string[] = [];
  readonly answered: Record<string, number> = {};
  failed = 0;
  private stopped = false;
  private issued = 0;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly clients: GatewayClient[],
    private readonly concurrency: number,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {}

  start(): this {
    this.workers = Array.from({ length: this.concurrency }, (_, i) => this.work(i));
    return this;
  }

  /** Resolves when `limit` payments were issued (or at once after `stop()`). */
  finished(): Promise<void> {
    return Promise.all(this.workers).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.finished();
  }

  private async work(worker: number): Promise<void> {
    while (!this.stopped && this.issued < this.limit) {
      this.issued += 1;
      const client = this.clients[(this.issued + worker) % this.clients.length]!;
      try {
        const res = await client.request(CreatePayment, { input: { amount: 1 + (this.issued % 50), currency: 'EUR' } });
        const created = res.data?.createPayment;
        if (created) {
          this.acknowledged.push(created.id);
          this.answered[created.status] = (this.answered[created.status] ?? 0) + 1;
        } else {
          this.failed += 1;
        }
      } catch {
        this.failed += 1; // the gateway is down: nothing was acknowledged
        await sleep(100);
      }
    }
  }
}
