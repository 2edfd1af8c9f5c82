import type { Admin } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerConsumerLag, type CommittingGroup } from '../../common/kafka/consumer-lag';
import { createRegistry, liveGauge, scrapedGauge } from '../../common/metrics';
import type { PaymentStatus } from '../../common/payment-status';
import type { AdaptiveLimit } from './adaptive-limit';
import type { Overload } from './admission';
import type { PaymentStore } from './payment-store';
import type { StatusHub } from './status-hub';

/** How a createPayment call ended, as the `outcome` label of its duration. */
export type CreateOutcome = 'created' | 'new' | 'repeated' | 'error';

/**
 * createPayment's steps, one after the other: `insert` (the payment and its outbox row, with the
 * wait to share a statement) for every admitted call; `publish` (the wait for a batch and the
 * broker's ack) and `mark` (CREATED committed) for each row the relay's fast path publishes, also
 * one whose caller was answered NEW meanwhile. A slow Postgres shows in `insert` and `mark`, a
 * slow broker in `publish`.
 */
export const CREATE_STAGES = ['insert', 'publish', 'mark'] as const;
export type CreateStage = (typeof CREATE_STAGES)[number];
export type StageObserver = (stage: CreateStage, seconds: number) => void;

/** The gateway's series; those read at scrape time are added by `watch` once their sources exist. */
export class GatewayMetrics {
  readonly registry: Registry = createRegistry('gateway');
  private readonly statuses = new Counter({
    name: 'payments_status_changes_total',
    help: 'Payments entering each status, counted once by the gateway when the change is stored',
    labelNames: ['status', 'currency'],
    registers: [this.registry],
  });
  readonly createPayment = new Histogram<'outcome'>({
    name: 'gateway_create_payment_duration_seconds',
    help: 'createPayment from its call to its answer, by outcome',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly stages = new Histogram<'stage'>({
    name: 'gateway_create_payment_stage_seconds',
    help: "createPayment's steps: insert (payment and outbox row), publish (the broker's ack), mark (CREATED committed)",
    labelNames: ['stage'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly createStage: StageObserver = (stage, seconds) => this.stages.observe({ stage }, seconds);

  private readonly refusals = new Counter({
    name: 'gateway_admission_refusals_total',
    help: 'createPayment calls refused with RESOURCE_EXHAUSTED, by the load reading that was over its limit',
    labelNames: ['signal'],
    registers: [this.registry],
  });

  readonly admissionRefused = (overload: Overload): void => {
    this.refusals.inc({ signal: overload.signal });
  };

  readonly statusChanged = (status: PaymentStatus, currency: string): void => {
    this.statuses.inc({ status, currency });
  };

  watch(sources: {
    store: PaymentStore;
    hub: StatusHub;
    admin: Admin;
    groups: CommittingGroup[];
    concurrency: AdaptiveLimit | undefined;
  }): void {
    const { concurrency } = sources;
    if (concurrency) {
      liveGauge(
        this.registry,
        'gateway_admission_concurrency_limit',
        'createPayment calls allowed in flight at once now (adjusted to ADMISSION_TARGET_LATENCY_MS)',
        () => concurrency.limit,
      );
      liveGauge(
        this.registry,
        'gateway_create_payment_in_flight',
        'createPayment calls admitted and not yet answered',
        () => concurrency.inUse,
      );
    }
    scrapedGauge(
      this.registry,
      'gateway_outbox_backlog',
      'Rows waiting in gateway.outbox to be published (NaN when the count did not answer in time)',
      () => sources.store.outboxBacklog(),
      1000,
    );
    liveGauge(
      this.registry,
      'gateway_live_subscriptions',
      'Status subscriptions open on this replica',
      () => sources.hub.subscriberCount,
    );
    registerConsumerLag(this.registry, sources.admin, sources.groups);
  }
}
