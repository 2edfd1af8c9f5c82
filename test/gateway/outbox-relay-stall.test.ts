import { newTraceparent } from '../../common/kafka/client';
import { paymentRequestedMessage } from '../../common/kafka/messages';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { topicNames } from '../../common/kafka/topics';
import { createLogger } from '../../common/logger';
import { asUserId, newPaymentId } from '../../common/ids';
import { OutboxRelay } from '../../gateway/src/outbox-relay';
import type { OutboxRow, PaymentStore } from '../../gateway/src/payment-store';

const row = (id: number): OutboxRow => {
  const paymentId = newPaymentId();
  return {
    id,
    topic: 'payments',
    messageKey: paymentId,
    payload: paymentRequestedMessage({ paymentId, userId: asUserId('1'), amount: 1, currency: 'EUR' }, new Date()),
    traceparent: newTraceparent(),
    createdAt: new Date(),
  };
};

/** Resolves with `value`, or with 'waited' if it was not already settled by the next macrotask. */
const settledNow = <T>(value: Promise<T>): Promise<T | 'waited'> =>
  Promise.race([value, new Promise<'waited'>((resolve) => setImmediate(() => resolve('waited')))]);

/**
 * A broker that takes the batch and never answers (an outage the client has not yet noticed):
 * once the fast path's send has been out longer than a caller waits, later callers are told NEW
 * at once instead of each holding its createPayment slot for the whole bound.
 */
describe('the outbox fast path behind a broker that does not answer', () => {
  const silent: Sender = {
    send: () => new Promise(() => undefined),
    sendBatch: () => new Promise(() => undefined),
  };
  const relay = new OutboxRelay({} as PaymentStore, silent, topicNames('stall.'), createLogger('test', 'silent'), {
    sweepAfterMs: 5000,
    sweepEveryMs: 60_000,
    batchSize: 500,
  });

  it('waits its bound while the send may still be answered, then answers at once', async () => {
    expect(await settledNow(relay.publishSoon(row(1), 50))).toBe('waited');
    await expect(relay.publishSoon(row(2), 50)).resolves.toBe(false);
    // Row 1's send has now been out for over 50 ms.
    expect(await settledNow(relay.publishSoon(row(3), 50))).toBe(false);
  });
});
