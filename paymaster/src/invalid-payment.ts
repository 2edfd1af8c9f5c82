import type { KafkaMessage } from 'kafkajs';
import { headerString, sendToDlq } from '../../common/kafka/client';
import { classifyFailure } from '../../common/failure-class';
import { paymentStatusChanged } from '../../common/kafka/contracts';
import { statusChangedMessage } from '../../common/kafka/messages';
import { isUserId, isUuid, asPaymentId, asUserId, type PaymentId, type UserId } from '../../common/ids';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { TOPICS } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import type { Publisher } from './payment-conductor';
import { PAYMASTER_REASONS } from './messages';
import { inProducerSpan, tracerOf } from '../../common/tracing';

/** The ids of a payment that failed validation, when they can still be trusted. */
export function readableIds(value: Buffer | null): { paymentId: PaymentId; userId: UserId } | null {
  if (value === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const { paymentId, userId } = json as Record<string, unknown>;
  if (typeof paymentId !== 'string' || !isUuid(paymentId)) return null;
  if (typeof userId !== 'string' || !isUserId(userId)) return null;
  const ids = { paymentId: asPaymentId(paymentId), userId: asUserId(userId) };
  // Only ids the status schema accepts, or publishing the ERROR would fail on every retry.
  return paymentStatusChanged.safeParse(statusChangedMessage(ids, 'ERROR', PAYMASTER_REASONS.invalidPayment)).success
    ? ids
    : null;
}

/**
 * Parks the message in `payments.dlq`, then tells the owner the payment failed if we can say
 * which payment it was. Both are acknowledged before the offset may be committed.
 */
export async function rejectInvalidPayment(
  deps: { producer: Sender; publisher: Publisher; logger: Logger },
  topic: string,
  partition: number,
  message: KafkaMessage,
  error: string,
): Promise<void> {
  deps.logger.warn(
    { topic, partition, offset: message.offset, error },
    'invalid payment message, sending it to the DLQ',
  );
  await sendToDlq(
    deps.producer,
    topic,
    message,
    { error, class: 'deterministic' },
    { partition, offset: message.offset },
  ).catch((e: unknown) => {
    // Even a stub refused for good: the owner must still hear of it, so the status goes out regardless.
    if (classifyFailure(e) === 'transient') throw e;
    deps.logger.error(
      { err: e, topic, partition, offset: message.offset },
      'the DLQ refused an invalid payment; it stays at its source offset',
    );
  });
  const ids = readableIds(message.value);
  if (!ids) return;
  const value = statusChangedMessage(ids, 'ERROR', PAYMASTER_REASONS.invalidPayment);
  await inProducerSpan(
    tracerOf('paymaster'),
    TOPICS.statusPayments.name,
    headerString(message.headers, 'traceparent'),
    (traceparent) => deps.publisher.publish('statusPayments', { key: ids.paymentId, value, traceparent }),
  );
}
