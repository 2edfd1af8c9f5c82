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

/** Far longer than any createPayment takes, even during an outage (PUBLISH_TIMEOUT_MS bounds it). */
const ANSWER_WITHIN_MS = 15_000;

const failureOf = (e: unknown): string => {
  if ((e as Error)?.name === 'TimeoutError') return 'no answer';
  return e instanceof SyntaxError ? 'not JSON' : 'unreachable';
};

/**
 * Clients creating payments as fast as `concurrency` allows, until `stop()` or `limit`.
 * Only payments the gateway acknowledged (answered with an id) count: those must never be lost.
 */
export class PaymentLoad {
  readonly acknowledged: string[] = [];
  readonly answered: Record<string, number> = {};
  /** Calls that acknowledged nothing, by the error code they got (`unreachable`: no answer at all). */
  readonly refused: Record<string, number> = {};
  private stopped = false;
  private issued = 0;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly clients: GatewayClient[],
    private readonly concurrency: number,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {}

  start(): this {
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
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

  private async work(): Promise<void> {
    while (!this.stopped && this.issued < this.limit) {
      this.issued += 1;
      // By the call's number alone, so consecutive calls take the next client (another gateway, in
      // bothGateways()). Adding the worker's index made every worker of a round land on the same
      // gateway: workers failing on a dead one, waking in step, then called nothing but it.
      const client = this.clients[this.issued % this.clients.length]!;
      try {
        const res = await client.request(
          CreatePayment,
          { input: { amount: 1 + (this.issued % 50), currency: 'EUR' } },
          { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) },
        );
        const created = res.data?.createPayment;
        if (created) {
          this.acknowledged.push(created.id);
          this.answered[created.status] = (this.answered[created.status] ?? 0) + 1;
        } else {
          this.refuse(String(res.errors?.[0]?.extensions?.code ?? 'no code'));
        }
      } catch (e) {
        // Nothing acknowledged: the gateway is down, held the call (given up on: it may still create
        // the payment, which is then nobody's acknowledged payment), or answered what is not JSON.
        this.refuse(failureOf(e));
        await sleep(100);
      }
    }
  }

  /** Calls that acknowledged nothing, whatever they got. */
  get failed(): number {
    return Object.values(this.refused).reduce((n, count) => n + count, 0);
  }

  private refuse(code: string): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }
}
