import type { MoneyOperationResult, PaymentRequested } from '../../common/kafka/contracts';
import type { Outgoing } from '../../common/kafka/client';
import type { Ticket } from '../../common/kafka/inflight-offsets';
import type { TopicKey } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import type { Delays } from './delays';
import {
  PAYMASTER_REASONS,
  childTraceparent,
  compensationCommand,
  debitCommand,
  outcomeOf,
  statusEvent,
  type Outcome,
} from './messages';

/** Where the conductor's messages go; a BatchPublisher in production. */
export interface Publisher {
  publish<T extends TopicKey>(topic: T, outgoing: Outgoing<T>): Promise<void>;
}

export interface ConductorOptions {
  publisher: Publisher;
  delays: Delays;
  resultDeadlineMs: number;
  logger: Logger;
  /** Called whenever a payment leaves the conductor, so the intake can resume when it drains. */
  onRelease?: () => void;
}

type Stage = 'waiting' | 'processing' | 'awaiting-result' | 'finishing';

interface InFlight {
  payment: PaymentRequested;
  traceparent: string | undefined;
  /** More than one when the same payment was delivered twice while held. */
  tickets: Ticket[];
  stage: Stage;
  timer: NodeJS.Timeout | undefined;
  abandoned: boolean;
}

export interface ConductorStats {
  inFlight: number;
  inFlightPeak: number;
  completed: number;
  abandoned: number;
}

/**
 * Conducts each payment through its stages with timers, never by awaiting its whole life in the
 * consumer: PROCESSING after a delay, then the DEBIT, then on money-storage's answer (or the
 * deadline) another delay and the terminal status. A payment's offset ticket is marked done only
 * when its terminal status is acknowledged by the broker, so a crash redelivers it.
 */
export class PaymentConductor {
  private readonly held = new Map<string, InFlight>();
  private peak = 0;
  private completed = 0;
  private abandonedCount = 0;

  constructor(private readonly o: ConductorOptions) {}

  get size(): number {
    return this.held.size;
  }

  holds(paymentId: string): boolean {
    return this.held.has(paymentId);
  }

  stats(): ConductorStats {
    return { inFlight: this.held.size, inFlightPeak: this.peak, completed: this.completed, abandoned: this.abandonedCount };
  }

  start(payment: PaymentRequested, traceparent: string | undefined, ticket: Ticket): void {
    const existing = this.held.get(payment.paymentId);
    if (existing) {
      existing.tickets.push(ticket);
      return;
    }
    const entry: InFlight = { payment, traceparent, tickets: [ticket], stage: 'waiting', timer: undefined, abandoned: false };
    this.held.set(payment.paymentId, entry);
    this.peak = Math.max(this.peak, this.held.size);
    entry.timer = setTimeout(() => void this.run(entry, () => this.beginProcessing(entry)), this.o.delays());
  }

  /** An answer from money-storage; anything not awaited by a payment held here is ignored. */
  onResult(result: MoneyOperationResult): void {
    if (result.kind !== 'DEBIT' || result.paymentId === null) return;
    const entry = this.held.get(result.paymentId);
    if (!entry || entry.stage !== 'awaiting-result') return;
    this.settle(entry, outcomeOf(result), false);
  }

  /** Drops held payments (their partition moved away, or we are stopping); their tickets stay unfinished. */
  abandon(which: (ticket: Ticket) => boolean = () => true): number {
    let n = 0;
    for (const [id, entry] of this.held) {
      if (!entry.tickets.some(which)) continue;
      entry.abandoned = true;
      clearTimeout(entry.timer);
      this.held.delete(id);
      n++;
    }
    this.abandonedCount += n;
    if (n > 0) this.o.onRelease?.();
    return n;
  }

  private async beginProcessing(entry: InFlight): Promise<void> {
    entry.stage = 'processing';
    await this.send(entry, 'statusPayments', statusEvent(entry.payment, 'PROCESSING', null));
    if (entry.abandoned) return;
    // Accept the answer from now on: it may arrive before the debit's own ack reaches us.
    entry.stage = 'awaiting-result';
    await this.send(entry, 'moneyOperations', debitCommand(entry.payment));
    if (entry.abandoned || entry.stage !== 'awaiting-result') return;
    entry.timer = setTimeout(() => {
      this.o.logger.warn({ paymentId: entry.payment.paymentId }, 'no answer from money-storage in time, compensating');
      this.settle(entry, { status: 'ERROR', reason: PAYMASTER_REASONS.timeout }, true);
    }, this.o.resultDeadlineMs);
  }

  private settle(entry: InFlight, outcome: Outcome, compensate: boolean): void {
    entry.stage = 'finishing';
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.run(entry, () => this.finish(entry, outcome, compensate)), compensate ? 0 : this.o.delays());
  }

  /**
   * The compensation is acknowledged before the ERROR goes out: if we die in between, the
   * redelivered payment re-sends the debit, which money-storage answers REVERSED, so the status
   * is still ERROR. The other order could publish ERROR for a debit that stays applied.
   */
  private async finish(entry: InFlight, outcome: Outcome, compensate: boolean): Promise<void> {
    if (compensate) await this.send(entry, 'moneyOperations', compensationCommand(entry.payment));
    if (entry.abandoned) return;
    await this.send(entry, 'statusPayments', statusEvent(entry.payment, outcome.status, outcome.reason));
    if (entry.abandoned) return;
    this.held.delete(entry.payment.paymentId);
    for (const t of entry.tickets) t.done();
    this.completed++;
    this.o.onRelease?.();
  }

  private send<T extends TopicKey>(entry: InFlight, topic: T, value: Outgoing<T>['value']): Promise<void> {
    return this.o.publisher.publish(topic, { key: entry.payment.paymentId, value, traceparent: childTraceparent(entry.traceparent) });
  }

  /** A stage that fails (publisher stopped, or a bug) leaves the payment unfinished for redelivery. */
  private async run(entry: InFlight, stage: () => Promise<void>): Promise<void> {
    try {
      await stage();
    } catch (e) {
      if (entry.abandoned) return;
      this.o.logger.error({ err: e, paymentId: entry.payment.paymentId }, 'payment stage failed; it stays uncommitted for redelivery');
      this.abandon((t) => entry.tickets.includes(t));
    }
  }
}
