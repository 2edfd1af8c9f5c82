import type { Admin } from 'kafkajs';
import { Histogram, type Registry } from 'prom-client';
import { registerConsumerLag, type CommittingGroup } from '../../common/kafka/consumer-lag';
import { createRegistry, liveGauge } from '../../common/metrics';
import type { Milestone, PaymentConductor } from './payment-conductor';

/** The paymaster's series; those read at scrape time are added by `watch` once their sources exist. */
export class PaymasterMetrics {
  readonly registry: Registry = createRegistry('paymaster');
  private readonly milestones = new Histogram<'milestone'>({
    name: 'paymaster_payment_milestone_seconds',
    help: 'Time from taking a payment to PROCESSING published, to the debit answered, to its terminal status published',
    labelNames: ['milestone'],
    // The stage delays are PAYMASTER_DELAY_MIN_MS..MAX_MS each (0.5 to 5 s by default).
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60],
    registers: [this.registry],
  });
  // Bound once: observing then allocates no label object per payment.
  private readonly byMilestone: Record<Milestone, Histogram.Internal<'milestone'>> = {
    processing: this.milestones.labels('processing'),
    debit_answered: this.milestones.labels('debit_answered'),
    terminal: this.milestones.labels('terminal'),
  };

  readonly milestoneReached = (milestone: Milestone, sinceTakenMs: number): void => {
    this.byMilestone[milestone].observe(sinceTakenMs / 1000);
  };

  watch(sources: { conductor: PaymentConductor; admin: Admin; groups: CommittingGroup[] }): void {
    liveGauge(
      this.registry,
      'paymaster_payments_in_flight',
      'Payments this paymaster holds between taking them and their terminal status',
      () => sources.conductor.size,
    );
    registerConsumerLag(this.registry, sources.admin, sources.groups);
  }
}
