import type { Admin } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { registerConsumerLag, type CommittingGroup } from '../../common/kafka/consumer-lag';
import { createRegistry } from '../../common/metrics';
import type { DecisionListener } from './operation-handler';

/** Money-storage's series; consumer lag is added by `watch` once the admin client exists. */
export class MoneyStorageMetrics {
  readonly registry: Registry = createRegistry('money-storage');
  private readonly operations = new Counter({
    name: 'ledger_operations_total',
    help: 'Money operations decided, by kind, outcome and reason (reason "none" when applied)',
    labelNames: ['kind', 'outcome', 'reason'],
    registers: [this.registry],
  });

  readonly decided: DecisionListener = (kind, answer) => {
    this.operations.inc({ kind, outcome: answer.outcome, reason: answer.reason ?? 'none' });
  };

  watch(sources: { admin: Admin; groups: CommittingGroup[] }): void {
    registerConsumerLag(this.registry, sources.admin, sources.groups);
  }
}
