import type { GatewayClient } from '../../client/gateway-client';
import { sleep } from '../../common/sleep';
import { waitFor } from '../../common/wait-for';
import { CreatePayment, Deposit, MyAccounts } from '../../client/operations';
import { eventually } from '../support/infra';
import type { E2ESystem } from './system';

/**
 * As a client should: a deposit answered UNAVAILABLE (Kafka slower than PUBLISH_TIMEOUT_MS, as on
 * a busy machine) is asked again with the same idempotency key, which makes it happen once.
 */
const depositRetrying = (client: GatewayClient): Promise<true> =>
  waitFor(
    'a deposit accepted',
    async () => {
      const r = await client.request(Deposit, { amount: 1_000_000_000, currency: 'EUR', idempotencyKey: 'seed' });
      if (r.data) return true;
      if (r.errors?.every((e) => e.extensions?.code === 'UNAVAILABLE')) return undefined;
      throw new Error(`deposit refused: ${JSON.stringify(r.errors)}`);
    },
    60_000,
    500,
  );

/** Gives each load user plenty (a self-deposit: SELF_DEPOSIT_MAX must allow it) and waits until every deposit has landed. */
export async function fundUsers(e2e: E2ESystem, users: string[]): Promise<void> {
  await Promise.all(users.map((u) => depositRetrying(e2e.client(u))));
  await eventually(
    'every deposit',
    async () => {
      const accounts = await Promise.all(
        users.map(async (u) => (await e2e.client(u).data(MyAccounts)).myAccounts.length),
      );
      return accounts.every((n) => n === 1) ? true : undefined;
    },
    60_000,
  );
}

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
