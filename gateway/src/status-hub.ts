import type { PaymentStatusChanged } from '../../common/kafka/contracts';
import { setNewest } from '../../common/newest-first-map';

type Listener = (event: PaymentStatusChanged) => void;

/**
 * In-process fan-out of status events to this replica's subscribers, by payment and by owner.
 * Every replica feeds its own hub from Kafka, so a subscriber may connect to any replica.
 */
export class StatusHub {
  private readonly byPayment = new Map<string, Set<Listener>>();
  private readonly byUser = new Map<string, Set<Listener>>();
  /**
   * The newest event seen per payment, for the most recent payments. The fan-out is faster than
   * the DB writer, so a subscriber arriving in between would read a stale row and wait forever
   * for an event that already went by; this closes that gap.
   */
  private readonly recent = new Map<string, PaymentStatusChanged>();

  constructor(private readonly recentLimit = 50_000) {}

  latest(paymentId: string): PaymentStatusChanged | undefined {
    return this.recent.get(paymentId);
  }

  publish(event: PaymentStatusChanged): void {
    const known = this.recent.get(event.paymentId);
    if (!known || event.seq > known.seq) setNewest(this.recent, event.paymentId, event, this.recentLimit);
    this.byPayment.get(event.paymentId)?.forEach((l) => l(event));
    this.byUser.get(event.userId)?.forEach((l) => l(event));
  }

  onPayment(paymentId: string, listener: Listener): () => void {
    return add(this.byPayment, paymentId, listener);
  }

  onUser(userId: string, listener: Listener): () => void {
    return add(this.byUser, userId, listener);
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.byPayment.values()) n += set.size;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }
}

function add(map: Map<string, Set<Listener>>, key: string, listener: Listener): () => void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) map.delete(key);
  };
}
