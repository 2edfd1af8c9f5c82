import type { MoneyOperation, MoneyOperationResult, PaymentRequested } from '../../common/kafka/contracts';
import type { Outgoing } from '../../common/kafka/client';
import type { Ticket } from '../../common/kafka/inflight-offsets';
import {
  compensationCommand,
  debitCommand,
  reversalId,
  settleCommand,
  settleId,
  statusChangedMessage,
} from '../../common/kafka/messages';
import { TOPICS, type TopicKey } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import { LogDigest } from '../../common/log-digest';
import { backoffMs } from '../../common/backoff';
import { inProducerSpan, tracerOf } from '../../common/tracing';
import type { Delays } from './delays';
import { timeoutClock, type Cancel, type StageClock } from './stage-clock';
import { compensationOutcome, debitVerdict, settleOutcome, type Outcome } from './messages';

/** Where the conductor's messages go; a BatchPublisher in production. */
export interface Publisher {
  publish<T extends TopicKey>(topic: T, outgoing: Outgoing<T>): Promise<void>;
}

export interface ConductorOptions {
  publisher: Publisher;
  delays: Delays;
  resultDeadlineMs: number;
  resendIntervalMs: number;
  /** Where stage delays, deadlines and resends are timed; one `setTimeout` each by default. */
  clock?: StageClock;
  logger: Logger;
  /** Called whenever a payment leaves the conductor, so the intake can resume when it drains. */
  onRelease?: () => void;
  /** Called as a payment reaches each timed milestone, with the milliseconds since it was taken. */
  onMilestone?: (milestone: Milestone, sinceTakenMs: number) => void;
}

/** What the paymaster times, each from the moment it took the payment. */
export type Milestone = 'processing' | 'debit_answered' | 'terminal';

/**
 * `awaiting-debit`, `settling` (only for a debit an older money-storage applied without making it
 * final) and `compensating` each wait for one answer from money-storage;
 * anything else arriving for the payment (a duplicate answer, a late debit answer) is ignored.
 */
type Stage = 'waiting' | 'awaiting-debit' | AskingStage | 'finishing';
/** The stages whose command is re-sent until answered. */
type AskingStage = 'settling' | 'compensating';

interface InFlight {
  payment: PaymentRequested;
  traceparent: string | undefined;
  /** performance.now() when taken. */
  takenAt: number;
  /** More than one when the same payment was delivered twice while held. */
  tickets: Ticket[];
  /** Stage failures so far; each starts the payment over (see `run`). */
  failures: number;
  stage: Stage;
  /** The pending stage delay or the debit's deadline. */
  timer: Cancel | undefined;
  /** Re-sends the command whose answer we wait for: commands are idempotent, a lost answer is not fatal. */
  retry: Cancel | undefined;
  /** PROCESSING acknowledged; the terminal status waits for it (see beginProcessing). */
  processingAcked: Promise<void> | undefined;
  /** Settling ends when both the stage delay is over and the settle is answered. */
  delayOver: boolean;
  settled: Outcome | undefined;
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
 * consumer: PROCESSING after a delay, then the DEBIT, then on money-storage's answer another
 * delay and the terminal status (or, past the deadline, a compensation and the status it
 * decides). A payment's offset ticket is marked done only when its terminal status is
 * acknowledged by the broker, so a crash redelivers it.
 *
 * No terminal status goes out before money-storage has fixed the money to match it: COMPLETED
 * only on a debit answered final (`settled`, or else made so by a SETTLE sent right away, its round
 * trip hidden in the last delay), ERROR after the deadline only on the compensation's answer.
 * Money-storage lets exactly one of finality and compensation win per debit, so even a payment
 * conducted twice cannot be COMPLETED with its money given back.
 */
export class PaymentConductor {
  private readonly held = new Map<string, InFlight>();
  private readonly clock: StageClock;
  private peak = 0;
  private completed = 0;
  private abandonedCount = 0;
  /** Per payment, and in an outage every payment in flight at once (see LogDigest). */
  private readonly unanswered: LogDigest;
  /** Per payment and resend, grouped by stage. */
  private readonly resent: LogDigest;

  constructor(private readonly o: ConductorOptions) {
    this.clock = o.clock ?? timeoutClock;
    this.unanswered = new LogDigest(o.logger, 'no answer from money-storage in time, compensating', 'paymentId');
    this.resent = new LogDigest(o.logger, 'still no answer from money-storage, asking again', 'paymentId');
  }

  /** Logs what the warning digests still hold; for a clean stop. */
  flushLogs(): Promise<void> {
    return Promise.all([this.unanswered.stop(), this.resent.stop()]).then(() => undefined);
  }

  get size(): number {
    return this.held.size;
  }

  holds(paymentId: string): boolean {
    return this.held.has(paymentId);
  }

  stats(): ConductorStats {
    return {
      inFlight: this.held.size,
      inFlightPeak: this.peak,
      completed: this.completed,
      abandoned: this.abandonedCount,
    };
  }

  start(payment: PaymentRequested, traceparent: string | undefined, ticket: Ticket): void {
    const existing = this.held.get(payment.paymentId);
    if (existing) {
      existing.tickets.push(ticket);
      return;
    }
    this.hold(payment, traceparent, [ticket], performance.now(), 0, this.o.delays());
  }

  /** An answer from money-storage; anything not awaited by a payment held here is ignored. */
  onResult(result: MoneyOperationResult): void {
    if (result.paymentId === null) return;
    const entry = this.held.get(result.paymentId);
    if (!entry) return;
    switch (entry.stage) {
      case 'awaiting-debit':
        if (result.kind === 'DEBIT') this.onDebitAnswer(entry, result);
        return;
      case 'settling':
        if (result.operationId === settleId(entry.payment.paymentId)) this.onSettleAnswer(entry, settleOutcome(result));
        return;
      case 'compensating':
        if (result.operationId === reversalId(entry.payment.paymentId)) this.onCompensationAnswer(entry, result);
        return;
      case 'waiting':
      case 'finishing':
        return;
      default: {
        const unknown: never = entry.stage;
        throw new Error(`unknown stage ${String(unknown)}`);
      }
    }
  }

  /** Drops held payments (their partition moved away, or we are stopping); their tickets stay unfinished. */
  abandon(which: (ticket: Ticket) => boolean = () => true): number {
    let n = 0;
    for (const entry of this.held.values()) {
      if (!entry.tickets.some(which)) continue;
      this.retire(entry);
      n++;
    }
    this.abandonedCount += n;
    if (n > 0) this.o.onRelease?.();
    return n;
  }

  /** Holds a payment and begins processing it after `delayMs`. */
  private hold(
    payment: PaymentRequested,
    traceparent: string | undefined,
    tickets: Ticket[],
    takenAt: number,
    failures: number,
    delayMs: number,
  ): void {
    const entry: InFlight = {
      payment,
      traceparent,
      takenAt,
      tickets,
      failures,
      stage: 'waiting',
      timer: undefined,
      retry: undefined,
      processingAcked: undefined,
      delayOver: false,
      settled: undefined,
      abandoned: false,
    };
    this.held.set(payment.paymentId, entry);
    this.peak = Math.max(this.peak, this.held.size);
    entry.timer = this.clock.after(delayMs, () => void this.run(entry, () => this.beginProcessing(entry)));
  }

  /** Stops everything this entry has pending and lets go of it; its late continuations see `abandoned`. */
  private retire(entry: InFlight): void {
    entry.abandoned = true;
    this.clearTimers(entry);
    this.held.delete(entry.payment.paymentId);
  }

  /**
   * PROCESSING and the DEBIT go out together, in one batch. The answer is accepted from now on: it
   * may arrive before the acks reach us, so the terminal status waits for PROCESSING's ack itself
   * (publishTerminal) rather than count on the publisher to keep the two in order.
   */
  private async beginProcessing(entry: InFlight): Promise<void> {
    entry.stage = 'awaiting-debit';
    const processing = this.send(entry, 'statusPayments', statusChangedMessage(entry.payment, 'PROCESSING', null));
    const debit = this.send(entry, 'moneyOperations', debitCommand(entry.payment));
    const acked = processing.then(() => {
      if (!entry.abandoned) this.reached(entry, 'processing');
    });
    entry.processingAcked = acked;
    await Promise.all([acked, debit]);
    if (entry.abandoned || entry.stage !== 'awaiting-debit') return;
    entry.timer = this.clock.after(this.o.resultDeadlineMs, () => this.beginCompensating(entry));
  }

  private onDebitAnswer(entry: InFlight, result: MoneyOperationResult): void {
    entry.timer?.();
    this.reached(entry, 'debit_answered');
    const verdict = debitVerdict(result);
    if (verdict.next === 'finish') {
      entry.stage = 'finishing';
      entry.timer = this.clock.after(
        this.o.delays(),
        () => void this.run(entry, () => this.publishTerminal(entry, verdict.outcome)),
      );
      return;
    }
    entry.stage = 'settling';
    entry.timer = this.clock.after(this.o.delays(), () => {
      entry.delayOver = true;
      this.completeSettling(entry);
    });
    void this.run(entry, () => this.request(entry, 'settling', settleCommand));
  }

  private onSettleAnswer(entry: InFlight, outcome: Outcome): void {
    entry.retry?.();
    entry.settled = outcome;
    this.completeSettling(entry);
  }

  private completeSettling(entry: InFlight): void {
    if (entry.stage === 'settling' && entry.delayOver && entry.settled) this.finishNow(entry, entry.settled);
  }

  private onCompensationAnswer(entry: InFlight, result: MoneyOperationResult): void {
    const outcome = compensationOutcome(result);
    if (outcome) {
      this.finishNow(entry, outcome);
      return;
    }
    // Not a decision on the debit: keep asking rather than publish a status that may be false.
    this.o.logger.error(
      { paymentId: entry.payment.paymentId, result },
      'unexpected answer to a compensation; it will be asked again',
    );
  }

  private beginCompensating(entry: InFlight): void {
    this.unanswered.warn(entry.payment.paymentId);
    entry.stage = 'compensating';
    void this.run(entry, () => this.request(entry, 'compensating', compensationCommand));
  }

  /**
   * Sends a command and, until the stage moves on, sends it again now and then: money-storage
   * answers a repeat from the same state, and a payment must not hang on one lost answer.
   */
  private async request(
    entry: InFlight,
    stage: AskingStage,
    command: (p: PaymentRequested) => MoneyOperation,
  ): Promise<void> {
    await this.send(entry, 'moneyOperations', command(entry.payment));
    // The answer may already be here (it can beat the send's own acknowledgement).
    if (entry.abandoned || entry.stage !== stage || entry.settled) return;
    entry.retry = this.clock.after(this.o.resendIntervalMs, () => {
      this.resent.warn(entry.payment.paymentId, { stage });
      void this.run(entry, () => this.request(entry, stage, command));
    });
  }

  private finishNow(entry: InFlight, outcome: Outcome): void {
    entry.stage = 'finishing';
    this.clearTimers(entry);
    void this.run(entry, () => this.publishTerminal(entry, outcome));
  }

  private async publishTerminal(entry: InFlight, outcome: Outcome): Promise<void> {
    await entry.processingAcked;
    await this.send(entry, 'statusPayments', statusChangedMessage(entry.payment, outcome.status, outcome.reason));
    if (entry.abandoned) return;
    this.held.delete(entry.payment.paymentId);
    for (const t of entry.tickets) t.done();
    this.completed++;
    this.reached(entry, 'terminal');
    this.o.onRelease?.();
  }

  private reached(entry: InFlight, milestone: Milestone): void {
    this.o.onMilestone?.(milestone, performance.now() - entry.takenAt);
  }

  private clearTimers(entry: InFlight): void {
    entry.timer?.();
    entry.retry?.();
  }

  private send<T extends TopicKey>(entry: InFlight, topic: T, value: Outgoing<T>['value']): Promise<void> {
    return inProducerSpan(tracerOf('paymaster'), TOPICS[topic].name, entry.traceparent, (traceparent) =>
      this.o.publisher.publish(topic, { key: entry.payment.paymentId, value, traceparent }),
    );
  }

  /**
   * The publisher retries a broker that is away, so a stage fails only when this process stops
   * (the payment is abandoned then anyway) or on a bug. Abandoning it here would leave its ticket
   * unfinished while its partition stays ours, which no redelivery ever picks up: the payment would
   * hang until a restart. So it starts over after a backoff, exactly as a redelivery would.
   */
  private async run(entry: InFlight, stage: () => Promise<void>): Promise<void> {
    try {
      await stage();
    } catch (e) {
      // Abandoned, or no longer the one held for its payment: somebody else owns what happens next.
      if (entry.abandoned || this.held.get(entry.payment.paymentId) !== entry) return;
      const failures = entry.failures + 1;
      const retryInMs = backoffMs(failures);
      this.o.logger.error(
        { err: e, paymentId: entry.payment.paymentId, failures, retryInMs },
        'payment stage failed; conducting the payment again from the start',
      );
      this.retire(entry);
      this.hold(entry.payment, entry.traceparent, entry.tickets, entry.takenAt, failures, retryInMs);
    }
  }
}
