import type { Message } from 'kafkajs';
import { paymentRequested, type PaymentRequested, type PaymentStatusChanged } from '../../common/kafka/contracts';
import { INVALID_PAYMENT_REASON, statusChangedMessage } from '../../common/kafka/messages';
import { dlqHeaders, toKafkaMessage } from '../../common/kafka/client';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { dlqOf, type TopicNames } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import { SharedPromise } from '../../common/shared-promise';
import { asPaymentId, isUuid } from '../../common/ids';
import type { StageObserver } from './metrics';
import type { OutboxRow, PaymentStore, SentRows } from './payment-store';

const MAX_PENDING = 10_000;

/**
 * The most of parked rows' values one send copies into the DLQ. `payments.dlq` has one partition,
 * so a sweep's parked rows are one record batch, which the broker refuses past 1 MB: with keys cut
 * to 100 characters and reasons to 200, 500 rows stay under 0.8 MB.
 */
const MAX_PARKED_BYTES = 128 * 1024;

export interface RelayOptions {
  /** The sweeper leaves rows younger than this to the fast path. */
  sweepAfterMs: number;
  sweepEveryMs: number;
  batchSize: number;
  /** Told, per row of the fast path, how long it waited for the broker's ack and then for its mark. */
  onStage?: StageObserver;
}

/**
 * Publishes outbox rows to `payments`, plus the matching CREATED event to `status-payments`, then
 * deletes them and marks the payments CREATED.
 *
 * Fast path: requests hand their fresh row to `publishSoon`; rows arriving together go out in one
 * batch. Slow path: a sweeper claims rows the fast path did not finish (Kafka was down, the process
 * died) with SKIP LOCKED, so several replicas can sweep at once. A row published twice (fast path
 * and sweeper racing after an outage) is harmless: every consumer is idempotent per payment.
 */
export class OutboxRelay {
  private pending: Array<{ row: OutboxRow; since: number; done: (ok: boolean) => void }> = [];
  private readonly flushing = new SharedPromise(() => this.flush());
  // A sweep stuck behind a broker outage must not pile up more sweeps.
  private readonly sweeping = new SharedPromise(() => this.sweep());
  private timer: NodeJS.Timeout | undefined;
  /** When the fast path's batch on the wire was sent; undefined while none is. */
  private sendingSince: number | undefined;

  constructor(
    private readonly store: PaymentStore,
    private readonly producer: Sender,
    private readonly names: TopicNames,
    private readonly logger: Logger,
    private readonly options: RelayOptions,
  ) {}

  /** Resolves true once the row is published and marked, false if that took longer than `timeoutMs`. */
  publishSoon(row: OutboxRow, timeoutMs: number): Promise<boolean> {
    // During an outage the queue would only grow, and a send on the wire for longer than the
    // caller would wait means the broker is not answering: NEW at once, not after timeoutMs, so
    // an outage does not hold createPayment's slots (adaptive-limit.ts). The row is safe in the
    // outbox, for the sweeper.
    if (this.pending.length >= MAX_PENDING || this.sendStalled(timeoutMs)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.pending.push({
        row,
        since: performance.now(),
        done: (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
      });
      // Unconditionally: a flush that just found the queue empty may not have ended yet; joining
      // it would strand this row. After the current tick it has, and a new flush starts.
      setImmediate(() => void this.flushing.run());
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.sweeping.run(), this.options.sweepEveryMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.sweeping.current, this.flushing.current]);
  }

  /**
   * Rows handed in while a batch is on the wire wait for the next batch of the same flush. A batch
   * the broker acknowledged is marked in Postgres while the next one is already on the wire; its
   * callers hear CREATED only once the mark is committed, so a read after the answer sees CREATED.
   */
  private async flush(): Promise<void> {
    const marking = new Set<Promise<void>>();
    // Until nothing is pending or being marked: a row handed in meanwhile joins this flush, which must take it.
    while (this.pending.length > 0 || marking.size > 0) {
      if (this.pending.length === 0) {
        await Promise.race(marking);
        continue;
      }
      const batch = this.pending.splice(0, this.options.batchSize);
      const rows = batch.map((b) => b.row);
      this.sendingSince = performance.now();
      const sent = await this.send(rows).then(
        (s): SentRows | false => s,
        (e: unknown) => this.failed('publish', e, batch.length),
      );
      this.sendingSince = undefined;
      if (!sent) {
        for (const b of batch) b.done(false);
        continue;
      }
      const ackedAt = performance.now();
      const mark = this.store.completeOutbox(sent).then(
        () => {
          const markMs = performance.now() - ackedAt;
          const parked = new Set(sent.parked);
          for (const b of batch) b.done(!parked.has(b.row));
          batch.forEach(() => this.observe('mark', markMs));
        },
        (e: unknown) => batch.forEach((b) => b.done(this.failed('mark', e, batch.length))),
      );
      for (const b of batch) this.observe('publish', ackedAt - b.since);
      marking.add(mark);
      void mark.finally(() => marking.delete(mark));
    }
  }

  private observe(stage: 'publish' | 'mark', ms: number): void {
    this.options.onStage?.(stage, ms / 1000);
  }

  /** The rows stay in the outbox, and the sweeper publishes them (again: harmless) once the cause is gone. */
  private failed(step: 'publish' | 'mark', e: unknown, rows: number): false {
    this.logger.warn({ err: e, rows, step }, 'outbox fast path failed; the sweeper will retry');
    return false;
  }

  private async sweep(): Promise<void> {
    try {
      let published: number | undefined;
      do {
        published = await this.store.claimOutbox(this.options.sweepAfterMs, this.options.batchSize, (rows) =>
          this.send(rows),
        );
        if (published) this.logger.info({ rows: published }, 'outbox sweeper published stranded payments');
      } while (published === this.options.batchSize);
    } catch (e) {
      this.logger.warn({ err: e }, 'outbox sweep failed; retrying later');
    }
  }

  /** Whether the fast path's send has been on the wire for longer than a caller would wait. */
  private sendStalled(timeoutMs: number): boolean {
    return this.sendingSince !== undefined && performance.now() - this.sendingSince >= timeoutMs;
  }

  /**
   * Publishes each row with its CREATED event. A row that does not read as a payment (written by
   * another version, or by hand) would fail its batch on every sweep, and every row behind it with
   * it, for good: it is parked in `payments.dlq` instead, and its payment ends ERROR, as the
   * paymaster ends one whose message it cannot read.
   */
  private async send(rows: OutboxRow[]): Promise<SentRows> {
    const published: Array<{ row: OutboxRow; value: PaymentRequested }> = [];
    const parked: Array<{ row: OutboxRow; error: string }> = [];
    for (const row of rows) {
      const read = readPayment(row);
      if (read.ok) published.push({ row, value: read.value });
      else parked.push({ row, error: read.error });
    }
    const statuses = published.map(({ row, value }) => ({
      row,
      value: statusChangedMessage(value, 'CREATED', null),
    }));
    if (parked.length > 0) statuses.push(...(await this.failedStatuses(parked.map((p) => p.row))));
    const topicMessages = [
      {
        topic: this.names.payments,
        messages: published.map(({ row, value }) =>
          toKafkaMessage('payments', { key: value.paymentId, value, traceparent: row.traceparent }),
        ),
      },
      {
        topic: this.names.statusPayments,
        messages: statuses.map(({ row, value }) =>
          toKafkaMessage('statusPayments', { key: value.paymentId, value, traceparent: row.traceparent }),
        ),
      },
      { topic: dlqOf(this.names.payments), messages: this.parkedMessages(parked) },
    ];
    await this.producer.sendBatch({ acks: -1, topicMessages: topicMessages.filter((t) => t.messages.length > 0) });
    for (const { row, error } of parked)
      this.logger.error(
        { outboxId: row.id, paymentId: row.messageKey, error },
        'unreadable outbox row parked in the DLQ; its payment ends ERROR',
      );
    return { published: published.map((p) => p.row), parked: parked.map((p) => p.row) };
  }

  /** The ERROR events of parked rows whose payment is known; a row without one only goes to the DLQ. */
  private async failedStatuses(rows: OutboxRow[]): Promise<Array<{ row: OutboxRow; value: PaymentStatusChanged }>> {
    // Postgres prints a uuid in lower case; a row may carry it in upper.
    const idOf = (row: OutboxRow) => (isUuid(row.messageKey) ? asPaymentId(row.messageKey.toLowerCase()) : undefined);
    const owners = await this.store.ownersOf(rows.map(idOf).filter((id) => id !== undefined));
    return rows.flatMap((row) => {
      const paymentId = idOf(row);
      const userId = paymentId && owners.get(paymentId);
      if (!paymentId || userId === undefined) return [];
      const ids = { paymentId, userId };
      return [{ row, value: statusChangedMessage(ids, 'ERROR', INVALID_PAYMENT_REASON) }];
    });
  }

  /**
   * The rows' copies for the DLQ. Copies the broker refuses as too large would fail every sweep
   * again, so past MAX_PARKED_BYTES in one send a row's value is left out: its position says where
   * it is (`dlq-source-outbox-id`; the row itself is deleted once parked).
   */
  private parkedMessages(parked: Array<{ row: OutboxRow; error: string }>): Message[] {
    let room = MAX_PARKED_BYTES;
    return parked.map(({ row, error }) => {
      const value = JSON.stringify(row.payload);
      const size = Buffer.byteLength(value);
      const fits = size <= room;
      if (fits) room -= size;
      return {
        key: row.messageKey.slice(0, 100),
        value: fits ? value : null,
        headers: dlqHeaders(
          { error: error.slice(0, 200), class: 'deterministic' },
          this.names.payments,
          { 'dlq-source-outbox-id': String(row.id) },
          fits ? undefined : `${size} bytes`,
        ),
      };
    });
  }
}

/** A row the relay can publish: a `payments` message whose key is its payment's id, as createPayment writes them. */
function readPayment(row: OutboxRow): { ok: true; value: PaymentRequested } | { ok: false; error: string } {
  if (row.topic !== 'payments') return { ok: false, error: `an outbox row for topic ${JSON.stringify(row.topic)}` };
  const read = paymentRequested.safeParse(row.payload);
  if (!read.success) return { ok: false, error: read.error.message };
  if (read.data.paymentId !== row.messageKey.toLowerCase())
    return { ok: false, error: 'the row is keyed by another id than its payment' };
  return { ok: true, value: read.data };
}
