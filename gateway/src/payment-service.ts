import { randomUUID } from 'node:crypto';
import { publish, newTraceparent } from '../../common/kafka/client';
import { withTimeout, type Sender } from '../../common/kafka/self-healing-producer';
import type { PaymentStatusChanged } from '../../common/kafka/contracts';
import type { TopicNames } from '../../common/kafka/topics';
import { asOperationId, isUuid, newPaymentId, type PaymentId, type UserId } from '../../common/ids';
import { amountProblem, isCurrency, type Currency } from '../../common/money';
import { isTerminal, PAYMENT_STATUSES, type PaymentStatus } from '../../common/payment-status';
import type { Caller } from './auth';
import { badInput, GatewayError } from './errors';
import type { MoneyStorageClient, AccountBalance } from './money-storage-client';
import type { OutboxRelay } from './outbox-relay';
import type { PaymentRow, PaymentStore } from './payment-store';
import { PushStream } from './push-stream';
import type { RateLimiter } from './rate-limiter';
import type { StatusHub } from './status-hub';

export interface PaymentView {
  id: PaymentId;
  userName: string;
  amount: number;
  currency: Currency;
  status: PaymentStatus;
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface StatusEventView {
  paymentId: PaymentId;
  status: PaymentStatus;
  reason: string | null;
  at: Date;
}

export interface PaymentPage {
  edges: Array<{ cursor: string; node: PaymentView }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface ServiceOptions {
  publishTimeoutMs: number;
}

const MAX_PAGE = 200;

/** What a user can do, whichever door (GraphQL, REST) they come through. */
export class PaymentService {
  constructor(
    private readonly store: PaymentStore,
    private readonly relay: OutboxRelay,
    private readonly hub: StatusHub,
    private readonly limiter: RateLimiter,
    private readonly moneyStorage: MoneyStorageClient,
    private readonly producer: Sender,
    private readonly names: TopicNames,
    private readonly options: ServiceOptions,
  ) {}

  async createPayment(caller: Caller, input: { amount: unknown; currency: unknown; idempotencyKey?: unknown }): Promise<PaymentView> {
    const { amount, currency } = checkMoney(input.amount, input.currency);
    const idempotencyKey = checkIdempotencyKey(input.idempotencyKey);
    if (!this.limiter.take(caller.userName)) throw new GatewayError('RATE_LIMITED', 'too many payments; slow down');
    const userId = await this.store.userIdFor(caller.userName);
    const { payment, outbox } = await this.store.createPayment({ id: newPaymentId(), userId, amount, currency, idempotencyKey, traceparent: newTraceparent() });
    if (!outbox) return view(payment, caller);
    // Kafka's ack within the bound makes it CREATED; otherwise it is NEW and the sweeper takes over.
    const published = await this.relay.publishSoon(outbox, this.options.publishTimeoutMs);
    return view(published ? { ...payment, status: 'CREATED', statusSeq: 1 } : payment, caller);
  }

  async getPayment(caller: Caller, id: unknown): Promise<PaymentView | null> {
    if (typeof id !== 'string' || !isUuid(id)) return null;
    const userId = await this.store.userIdFor(caller.userName);
    const row = await this.store.findOwned(id as PaymentId, userId);
    return row ? view(row, caller) : null;
  }

  async listPayments(caller: Caller, args: { first?: unknown; after?: unknown; status?: unknown }): Promise<PaymentPage> {
    const first = args.first ?? 50;
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
      throw badInput(`first must be an integer from 0 to ${MAX_PAGE}`);
    }
    const status = args.status ?? undefined;
    if (status !== undefined && !(PAYMENT_STATUSES as readonly unknown[]).includes(status)) throw badInput('unknown status');
    const after = args.after === undefined || args.after === null ? undefined : decodeCursor(args.after);
    const userId = await this.store.userIdFor(caller.userName);
    const page = await this.store.listOwned(userId, { first, after, status: status as PaymentStatus | undefined });
    const edges = page.rows.map((row) => ({ cursor: encodeCursor(row), node: view(row, caller) }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: page.totalCount };
  }

  async deposit(caller: Caller, input: { amount: unknown; currency: unknown; idempotencyKey?: unknown }) {
    const { amount, currency } = checkMoney(input.amount, input.currency);
    const key = checkIdempotencyKey(input.idempotencyKey);
    const userId = await this.store.userIdFor(caller.userName);
    // A retried deposit with the same key carries the same operation id, which money-storage applies once.
    const operationId = asOperationId(key ? `deposit:${userId}:${key}` : `deposit:${randomUUID()}`);
    const value = { version: 1, kind: 'CREDIT', purpose: 'DEPOSIT', operationId, userId, amount, currency, paymentId: null, requestedAt: new Date().toISOString() } as const;
    await withTimeout(publish(this.producer, this.names, 'moneyOperations', [{ key: operationId, value }]), this.options.publishTimeoutMs * 5, 'deposit').catch(() => {
      throw new GatewayError('SERVICE_UNAVAILABLE', 'deposits are unavailable right now; retry with the same idempotencyKey');
    });
    return { operationId, amount, currency, status: 'ACCEPTED' as const };
  }

  async accounts(caller: Caller): Promise<AccountBalance[]> {
    const userId = await this.store.userIdFor(caller.userName);
    return this.moneyStorage.accounts(userId);
  }

  /** Current status first, then every later change; ends after a terminal status. */
  async watchPayment(caller: Caller, id: unknown): Promise<AsyncIterableIterator<StatusEventView>> {
    if (typeof id !== 'string' || !isUuid(id)) throw new GatewayError('NOT_FOUND', 'payment not found');
    const userId = await this.store.userIdFor(caller.userName);
    if (!(await this.store.findOwned(id as PaymentId, userId))) throw new GatewayError('NOT_FOUND', 'payment not found');
    let lastSeq = -1;
    const stream: PushStream<StatusEventView> = new PushStream(() => off());
    const push = (e: PaymentStatusChanged): void => {
      if (e.seq <= lastSeq) return; // stale or duplicate
      lastSeq = e.seq;
      stream.push(eventView(e));
      if (isTerminal(e.status)) stream.end();
    };
    const off = this.hub.onPayment(id, push);
    // Read after listening, so a change between the two is not lost.
    // The current status is the newer of the row and what this replica's fan-out last saw.
    const row = await this.store.findOwned(id as PaymentId, userId);
    const seen = this.hub.latest(id);
    const current = row ? rowEvent(row, userId) : undefined;
    const newest = seen && (!current || seen.seq > current.seq) ? seen : current;
    if (newest) push(newest);
    return stream;
  }

  async watchMine(caller: Caller): Promise<AsyncIterableIterator<StatusEventView>> {
    const userId = await this.store.userIdFor(caller.userName);
    const lastSeq = new Map<string, number>();
    const stream: PushStream<StatusEventView> = new PushStream(() => off());
    const off = this.hub.onUser(userId, (e) => {
      if (e.seq <= (lastSeq.get(e.paymentId) ?? -1)) return;
      if (isTerminal(e.status)) lastSeq.delete(e.paymentId);
      else lastSeq.set(e.paymentId, e.seq);
      stream.push(eventView(e));
    });
    return stream;
  }
}

function checkMoney(amount: unknown, currency: unknown): { amount: number; currency: Currency } {
  const problem = amountProblem(amount);
  if (problem) throw badInput(problem);
  if (typeof currency !== 'string' || !isCurrency(currency)) throw badInput('currency must be one of RUB USD EUR GBP CNY JPY CHF KZT');
  return { amount: amount as number, currency };
}

function checkIdempotencyKey(key: unknown): string | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== 'string' || key.length < 1 || key.length > 100) throw badInput('idempotencyKey must be a string of 1 to 100 characters');
  return key;
}

const view = (row: PaymentRow, caller: Caller): PaymentView => ({
  id: row.id,
  userName: caller.userName,
  amount: row.amount,
  currency: row.currency,
  status: row.status,
  reason: row.reason,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** One view per event, shared by all its subscribers, so their GraphQL execution can be too (see shared-execution). */
const views = new WeakMap<PaymentStatusChanged, StatusEventView>();
function eventView(e: PaymentStatusChanged): StatusEventView {
  let view = views.get(e);
  if (!view) views.set(e, (view = { paymentId: e.paymentId, status: e.status, reason: e.reason, at: new Date(e.at) }));
  return view;
}

const rowEvent = (row: PaymentRow, userId: UserId): PaymentStatusChanged => ({
  version: 1,
  type: 'PAYMENT_STATUS_CHANGED',
  paymentId: row.id,
  userId,
  status: row.status,
  reason: row.reason,
  seq: row.statusSeq,
  at: row.updatedAt.toISOString(),
});

const encodeCursor = (row: PaymentRow): string => Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');

function decodeCursor(cursor: unknown): { createdAt: Date; id: PaymentId } {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const [at, id] = text.split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) throw badInput('after is not a cursor from this API');
  return { createdAt, id: id as PaymentId };
}
