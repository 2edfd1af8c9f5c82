import { KafkaJSError, KafkaJSNonRetriableError } from 'kafkajs';

/**
 * A crash kafkajs restarts from at once: not retriable itself (so its retrier gives up on the
 * first try), retriable at its cause (so the consumer is restarted, after its initial retry time).
 */
export const restartableCrash = (): Error =>
  Object.assign(new KafkaJSNonRetriableError('the batch in hand failed'), {
    cause: new KafkaJSError('as a lost connection would', { retriable: true }),
  });
