import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { describeFailure } from '../failure-class';
import { decode, type MessageOf } from './contracts';
import { sendToDlq, type DlqFailure } from './client';
import type { Sender } from './self-healing-producer';
import type { TopicKey } from './topics';
import { retryTransient, type ConsumerScope } from './transient-retry';

/** Where a partition's poison goes: `<topic>.dlq`, with the source partition and offset in headers. */
export interface DlqTarget {
  producer: Sender;
  topic: string;
  partition: number;
}

/** `abandoned`: the consumer stopped meanwhile; nothing may be committed, the next owner redoes it. */
export type Settled = 'done' | 'abandoned';

/**
 * For a consumer that commits only after its writes (with paced commits, see GroupConsumer): once
 * the batch settled `done`, its last offset is resolved; an abandoned batch is left unresolved and
 * fetched again.
 */
export function resolveIfDone(payload: EachBatchPayload, settled: Settled): void {
  if (settled === 'abandoned') return;
  const last = payload.batch.messages.at(-1);
  if (last) payload.resolveOffset(last.offset);
}

/** A message and what the consumer made of it. */
export interface Item {
  message: KafkaMessage;
}

/**
 * Parks one message, retrying while the broker is away. If the DLQ refuses even a stub of it for
 * good, the partition still moves on: the message stays readable at its source offset, and this
 * error line is where an operator finds it. Holding the partition would help nobody.
 */
export async function parkMessage(
  target: DlqTarget,
  message: KafkaMessage,
  failure: DlqFailure,
  scope: ConsumerScope,
): Promise<Settled> {
  const where = { topic: target.topic, partition: target.partition, offset: message.offset };
  scope.logger.warn({ ...where, error: failure.error, class: failure.class }, 'message parked in the DLQ');
  const parked = await retryTransient(
    'dlq send',
    () => sendToDlq(target.producer, target.topic, message, failure, where),
    scope,
  );
  if (parked.kind === 'deterministic')
    scope.logger.error(
      { ...where, err: parked.error },
      'the DLQ refused the message; skipped, it stays at its source offset',
    );
  return parked.kind === 'abandoned' ? 'abandoned' : 'done';
}

/** Decodes each message against its topic's schema; those that fail are parked at once (a schema never passes later). */
export async function decodeOrPark<T extends TopicKey>(
  topicKey: T,
  messages: KafkaMessage[],
  target: DlqTarget,
  scope: ConsumerScope,
): Promise<{ settled: Settled; items: Array<Item & { value: MessageOf<T> }> }> {
  const items: Array<Item & { value: MessageOf<T> }> = [];
  for (const message of messages) {
    const decoded = decode(topicKey, message.value, message.headers);
    if (decoded.ok) items.push({ message, value: decoded.value });
    else if (
      (await parkMessage(target, message, { error: decoded.error, class: 'deterministic' }, scope)) === 'abandoned'
    )
      return { settled: 'abandoned', items };
  }
  return { settled: 'done', items };
}

/**
 * Processes items together (one statement, one publish), retrying transient failures in place.
 * When the batch fails deterministically, each item is processed alone, so only the one that
 * fails by itself is parked and every other is processed as usual: one poison message costs its
 * batch a slower pass, never its partition's progress. Safe only for idempotent processing, since
 * the items before the culprit are processed twice.
 */
export async function processIsolatingPoison<I extends Item>(
  items: I[],
  processAll: (items: I[]) => Promise<void>,
  target: DlqTarget,
  scope: ConsumerScope,
): Promise<Settled> {
  if (items.length === 0) return 'done';
  const together = await retryTransient('batch', () => processAll(items), scope);
  if (together.kind !== 'deterministic') return together.kind;
  const error = describeFailure(together.error);
  if (items.length === 1) return parkMessage(target, items[0]!.message, { error, class: 'deterministic' }, scope);
  scope.logger.warn(
    { topic: target.topic, partition: target.partition, items: items.length, error },
    'batch failed deterministically, isolating the culprit',
  );
  for (const item of items) {
    if ((await processIsolatingPoison([item], processAll, target, scope)) === 'abandoned') return 'abandoned';
  }
  return 'done';
}
