import { newTraceparent } from '../../common/kafka/client';
import { activeTraceparent } from '../../common/tracing';
import type { PaymentStatusChanged } from '../../common/kafka/contracts';
import { paymentRequestedMessage, statusChangedMessage } from '../../common/kafka/messages';
import { isUuid, newPaymentId, UUID, type PaymentId, type UserId } from '../../common/ids';
import type { Currency } from '../../common/money';
import { isTerminal, PAYMENT_STATUSES, type PaymentStatus } from '../../common/payment-status';
import type { Histogram } from 'prom-client';
import type { Caller } from './auth';
import type { Admission } from './admission';
import type { CallerGate } from './caller-gate';
import { badInput } from './errors';
import type { CreateOutcome, StageObserver } from './metrics';
import { checkFirst, checkIdempotencyKey, checkMoney, decodeCursor, encodeCursor } from './inputs';
import type { OutboxRelay } from './outbox-relay';
import type { PaymentRow, PaymentStore } from './payment-store';
import { PushStream } from './push-stream';
import type { StatusHub } from './status-hub';
import { ApiError } from '../../common/api-error';
import { setNewest } from '../../common/newest-first-map';

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

export interface PaymentServiceParts {
  store: PaymentStore;
  relay: OutboxRelay;
  hub: StatusHub;
  gate: CallerGate;
  admission: Admission;
  /** How long createPayment waits for the broker's ack before answering NEW. */
  publishTimeoutMs: number;
  /** createPayment's duration, by outcome (see GatewayMetrics). */
  createTimer: Pick<Histogram<'outcome'>, 'startTimer'>;
  /** Told how long the insert took (the relay times the publish and the mark). */
  onStage: StageObserver;
}

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;
/**
 * Payments whose last status a myPaymentStatuses subscription remembers, to drop late duplicates:
 * far more than a user has moving at once, ~100 KB at most per subscription.
 */
const WATCHED_PAYMENTS_KEPT = 1000;
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What a user can do with payments, whichever door (GraphQL, REST, WebSocket) they come through. */
export class PaymentService {
  constructor(private readonly p: PaymentServiceParts) {}

  async createPayment(
    caller: Caller,
    input: { amount: unknown; currency: unknown; idempotencyKey?: unknown },
  ): Promise<PaymentView> {
    const done = this.p.createTimer.startTimer();
    try {
      const { outcome, payment } = await this.create(caller, input);
      done({ outcome });
      return payment;
    } catch (e) {
      done({ outcome: 'error' });
      throw e;
    }
  }

  private async create(
    caller: Caller,
    input: { amount: unknown; currency: unknown; idempotencyKey?: unknown },
  ): Promise<{ outcome: CreateOutcome; payment: PaymentView }> {
    this.p.gate.charge(caller, 'write');
    const { amount, currency } = checkMoney(input.amount, input.currency);
    const idempotencyKey = checkIdempotencyKey(input.idempotencyKey);
    const ticket = this.p.admission.admit();
    // Only a call that ran its course says how loaded the system is (see adaptive-limit.ts).
    let sample = false;
    try {
      const created = await this.createAdmitted(caller, { amount, currency, idempotencyKey });
      sample = created.outcome !== 'new';
      return created;
    } finally {
      ticket(sample);
    }
  }

  private async createAdmitted(
    caller: Caller,
    { amount, currency, idempotencyKey }: { amount: number; currency: Currency; idempotencyKey: string | null },
  ): Promise<{ outcome: CreateOutcome; payment: PaymentView }> {
    const userId = await this.p.gate.payerId(caller);
    const id = newPaymentId();
    const outboxPayload = paymentRequestedMessage({ paymentId: id, userId, amount, currency }, new Date());
    const traceparent = activeTraceparent() ?? newTraceparent();
    const started = performance.now();
    const { payment, outbox } = await this.p.store.createPayment({
      id,
      userId,
      amount,
      currency,
      idempotencyKey,
      traceparent,
      outboxPayload,
    });
    this.p.onStage('insert', (performance.now() - started) / 1000);
    if (!outbox)
      return { outcome: 'repeated', payment: view(sameRequestOrConflict(payment, amount, currency), caller) };
    // Kafka's ack within the bound makes it CREATED; otherwise it is NEW and the sweeper takes over.
    const published = await this.p.relay.publishSoon(outbox, this.p.publishTimeoutMs);
    if (!published) return { outcome: 'new', payment: view(payment, caller) };
    return { outcome: 'created', payment: view({ ...payment, status: 'CREATED', statusSeq: 1 }, caller) };
  }

  async getPayment(caller: Caller, id: unknown): Promise<PaymentView | null> {
    this.p.gate.charge(caller, 'read');
    if (typeof id !== 'string' || !isUuid(id)) return null;
    const userId = await this.p.gate.userId(caller);
    const row = await this.p.store.findOwned(id as PaymentId, userId);
    return row ? view(row, caller) : null;
  }

  async listPayments(
    caller: Caller,
    args: { first?: unknown; after?: unknown; status?: unknown },
  ): Promise<PaymentPage> {
    this.p.gate.charge(caller, 'read');
    const first = checkFirst(args.first, DEFAULT_PAGE, MAX_PAGE);
    const status = args.status ?? undefined;
    if (status !== undefined && !(PAYMENT_STATUSES as readonly unknown[]).includes(status))
      throw badInput('unknown status');
    const after = args.after === undefined || args.after === null ? undefined : decodePaymentCursor(args.after);
    const userId = await this.p.gate.userId(caller);
    const page = await this.p.store.listOwned(userId, { first, after, status: status as PaymentStatus | undefined });
    const edges = page.rows.map((row) => ({
      cursor: encodeCursor([row.createdAt.toISOString(), row.id]),
      node: view(row, caller),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
    };
  }

  /** Current status first, then every later change; ends after a terminal status. */
  async watchPayment(caller: Caller, id: unknown): Promise<AsyncIterableIterator<StatusEventView>> {
    this.p.gate.charge(caller, 'read');
    if (typeof id !== 'string' || !isUuid(id)) throw new ApiError('NOT_FOUND', 'payment not found');
    // The hub is keyed by ids as events carry them, lower case; Postgres matches either case.
    const paymentId = id.toLowerCase() as PaymentId;
    const userId = await this.p.gate.userId(caller);
    if (!(await this.p.store.findOwned(paymentId, userId))) throw new ApiError('NOT_FOUND', 'payment not found');
    let lastSeq = -1;
    const stream: PushStream<StatusEventView> = new PushStream(() => off());
    const push = (e: PaymentStatusChanged): void => {
      if (e.seq <= lastSeq) return; // stale or duplicate
      lastSeq = e.seq;
      stream.push(eventView(e));
      if (isTerminal(e.status)) stream.end();
    };
    const off = this.p.hub.onPayment(paymentId, push);
    // Read after listening, so a change between the two is not lost.
    // The current status is the newer of the row and what this replica's fan-out last saw.
    const row = await this.p.store.findOwned(paymentId, userId);
    const seen = this.p.hub.latest(paymentId);
    const current = row ? rowEvent(row, userId) : undefined;
    const newest = seen && (!current || seen.seq > current.seq) ? seen : current;
    if (newest) push(newest);
    return stream;
  }

  async watchMine(caller: Caller): Promise<AsyncIterableIterator<StatusEventView>> {
    this.p.gate.charge(caller, 'read');
    const userId = await this.p.gate.userId(caller);
    // Terminal payments are kept too: a late duplicate (an outbox row sent twice, the fan-out
    // reading a partition again) would otherwise follow COMPLETED with CREATED.
    const lastSeq = new Map<string, number>();
    const stream: PushStream<StatusEventView> = new PushStream(() => off());
    const off = this.p.hub.onUser(userId, (e) => {
      if (e.seq <= (lastSeq.get(e.paymentId) ?? -1)) return;
      setNewest(lastSeq, e.paymentId, e.seq, WATCHED_PAYMENTS_KEPT);
      stream.push(eventView(e));
    });
    return stream;
  }
}

/** Like Stripe: the same key with the same parameters is the first payment again; other parameters are a conflict. */
function sameRequestOrConflict(existing: PaymentRow, amount: number, currency: Currency): PaymentRow {
  if (existing.amount === amount && existing.currency === currency) return existing;
  throw new ApiError('CONFLICT', 'this idempotencyKey was used for a payment with other parameters');
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

const rowEvent = (row: PaymentRow, userId: UserId): PaymentStatusChanged =>
  statusChangedMessage({ paymentId: row.id, userId }, row.status, row.reason, row.updatedAt);

function decodePaymentCursor(cursor: unknown): { createdAt: Date; id: PaymentId } {
  const [at, id] = decodeCursor(cursor, [ISO_MILLIS, UUID]) as [string, string];
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime())) throw badInput('after is not a cursor from this API');
  return { createdAt, id: id as PaymentId };
}
