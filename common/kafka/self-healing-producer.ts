import {
  type ICustomPartitioner,
  type Kafka,
  type Message,
  type Producer,
  type ProducerBatch,
  type ProducerRecord,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import { TransientError } from '../failure-class';
import type { Stoppable } from '../lifecycle';
import type { Logger } from '../logger';
import { TimeoutError, withTimeout } from '../with-timeout';
import { createProducer } from './client';
import { keyPartitioner } from './key-partitioner';

/** What publishing code needs of a producer; both kafkajs' and ours provide it. */
export type Sender = Pick<Producer, 'send' | 'sendBatch'>;

/** The partition kafkajs routed each message to on the latest attempt of its send. */
const routedTo = new WeakMap<Message, number>();

/** The services' partitioner (so the same partitions as every producer's), remembering each choice. */
const recordingPartitioner: ICustomPartitioner = () => {
  const choose = keyPartitioner();
  return (args) => {
    const partition = choose(args);
    routedTo.set(args.message, partition);
    return partition;
  };
};

/** Transient: kafkajs answered a send without writing all of it; sending it again is the fix. */
export class PartialSendError extends TransientError {
  constructor(readonly partitions: string[]) {
    super(`Kafka acknowledged the send without partitions ${partitions.join(', ')}; it is sent again`);
  }
}

/**
 * The topic-partitions a send routed messages to that its answer does not acknowledge. kafkajs
 * 2.2.4 can resolve a send having dropped part of it: its `sendMessages` keeps one answer per
 * broker across retries and sends again only to brokers without one, so when a broker fails
 * mid-send (kill -9, leader moved) and its partitions move to a broker that already answered that
 * send, their messages are never sent, and the send resolves (tulios/kafkajs#1303, PR #1798).
 */
export function unacknowledged(sent: TopicMessages[], answer: RecordMetadata[]): string[] {
  const acked = new Set(answer.filter((r) => r.errorCode === 0).map((r) => `${r.topicName}:${r.partition}`));
  const missing = new Set<string>();
  for (const { topic, messages } of sent)
    for (const message of messages) {
      const where = `${topic}:${routedTo.get(message) ?? '?'}`;
      if (!acked.has(where)) missing.add(where);
    }
  return [...missing];
}

/**
 * An idempotent producer that is thrown away and replaced when a send fails or hangs past
 * `timeoutMs`. After a broker restart kafkajs' producer can stay wedged, every send pending
 * forever; callers that wait on it (the outbox relay) would then never publish again.
 * A send that timed out may still land later: consumers are idempotent per payment, so a
 * duplicate is harmless, while a lost wake-up is not. A send whose answer leaves out a partition
 * it routed messages to fails too (`unacknowledged`), so that callers send it again.
 */
/** Long enough for kafkajs' own retries of a healthy cluster, short enough to notice a wedged producer. */
export const SEND_TIMEOUT_MS = 10_000;

/**
 * A send is not started with less time left than this (or half its timeout, if shorter): it could
 * only time out while connecting, replacing a producer for nothing, or be handed to Kafka after
 * its caller, whose own wait ends with the send's deadline, has given up on it.
 */
const MIN_SEND_BUDGET_MS = 1000;

export class SelfHealingProducer implements Sender, Stoppable {
  private current: Promise<Producer> | undefined;
  /** Settles once every send handed in so far has settled (see `inTurn`). */
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly timeoutMs = SEND_TIMEOUT_MS,
  ) {}

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.use((p) => p.send(record), [{ topic: record.topic, messages: record.messages }], record.acks);
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    return this.use((p) => p.sendBatch(batch), batch.topicMessages ?? [], batch.acks);
  }

  /** Refuses new sends and those still waiting their turn, lets the one on the wire settle, then disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.tail;
    const current = this.current;
    this.current = undefined;
    await (await current?.catch(() => undefined))?.disconnect();
  }

  /**
   * Resolves only once every partition `sent` routed a message to is acknowledged (with acks),
   * within `timeoutMs` of the call, the wait for the sends ahead of it included.
   */
  private use(
    action: (p: Producer) => Promise<RecordMetadata[]>,
    sent: TopicMessages[],
    acks: number | undefined,
  ): Promise<RecordMetadata[]> {
    const deadline = performance.now() + this.timeoutMs;
    return this.inTurn(() => {
      if (this.stopped) return Promise.reject(new TransientError('Kafka producer stopped before this send'));
      const left = deadline - performance.now();
      // Never sent, so nothing to replace: the sends ahead of it took its time.
      if (left < Math.min(MIN_SEND_BUDGET_MS, this.timeoutMs / 2))
        return Promise.reject(new TimeoutError('Kafka send (behind earlier sends)', this.timeoutMs));
      return this.attempt(action, sent, acks, left);
    });
  }

  /**
   * One send at a time. kafkajs' idempotent producer numbers each partition's batches; when a
   * produce fails it winds the number back and lets the next send waiting for that broker go,
   * which takes the same number. If the failed batch had been written (its answer lost with the
   * connection), the broker takes the newcomer for a duplicate of it, answers success with the
   * old offset and never writes it: a payment or a deposit acknowledged and lost. A send is
   * therefore handed to kafkajs only once the one before it has settled, its retries included,
   * or has timed out, which replaces the producer, and a new producer numbers afresh.
   * Test: idempotent-sends.test. Every caller already keeps one batch on the wire; what waits
   * here is the odd deposit, sweep or DLQ copy beside it.
   */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async attempt(
    action: (p: Producer) => Promise<RecordMetadata[]>,
    sent: TopicMessages[],
    acks: number | undefined,
    timeoutMs: number,
  ): Promise<RecordMetadata[]> {
    const connecting = (this.current ??= this.connect());
    const checked = async (p: Producer): Promise<RecordMetadata[]> => {
      const answer = await action(p);
      const missing = acks === 0 ? [] : unacknowledged(sent, answer);
      if (missing.length > 0) throw new PartialSendError(missing);
      return answer;
    };
    try {
      return await withTimeout(connecting.then(checked), Math.round(timeoutMs), 'Kafka send');
    } catch (e) {
      // Whatever failed, kafkajs may have wound a sequence number back: a new producer numbers afresh.
      if (this.current === connecting) {
        this.current = undefined;
        this.logger.warn({ err: e }, 'Kafka producer replaced after a failed send');
        void connecting.then((p) => p.disconnect()).catch(() => undefined);
      }
      throw e;
    }
  }

  private async connect(): Promise<Producer> {
    const producer = createProducer(this.kafka, { createPartitioner: recordingPartitioner });
    await producer.connect();
    return producer;
  }
}
