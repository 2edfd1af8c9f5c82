import type { IHeaders, TopicMessages } from 'kafkajs';
import { backoffMs } from '../backoff';
import { TransientError } from '../failure-class';
import { sleep } from '../sleep';
import type { Logger } from '../logger';
import { toKafkaMessage, type Outgoing } from './client';
import type { Sender } from './self-healing-producer';
import type { TopicKey, TopicNames } from './topics';

export interface BatchPublisherOptions {
  /** How long a message may wait for company before its batch is sent. */
  lingerMs: number;
  /** A batch this large is sent at once, without waiting for the linger. */
  maxBatch: number;
  logger: Logger;
}

interface Pending {
  topic: string;
  message: { key: string; value: Buffer; headers: IHeaders };
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Transient: the message was not refused, this process is going away; its work is redone by the next owner. */
class PublisherStoppedError extends TransientError {
  constructor() {
    super('publisher stopped');
  }
}

/**
 * Collects messages for a few ms and sends them with one `sendBatch` (acks=all), so thousands of
 * small publishes per second cost a few requests. Each caller gets a promise that settles when
 * the broker acknowledged its message.
 *
 * One batch is in flight at a time: the idempotent producer then keeps every partition's order,
 * and under load the next batch simply grows while the previous one is on the wire. A failed
 * batch is retried (same event ids, so consumers can dedupe) until it succeeds or `stop()`.
 */
export class BatchPublisher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly producer: Sender,
    private readonly names: TopicNames,
    private readonly options: BatchPublisherOptions,
  ) {}

  /** Validates and stamps the message now (a bug throws here), resolves on the broker's ack. */
  publish<T extends TopicKey>(topic: T, outgoing: Outgoing<T>): Promise<void> {
    if (this.stopped) return Promise.reject(new PublisherStoppedError());
    const message = toKafkaMessage(topic, outgoing);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic: this.names[topic], message, resolve, reject });
      this.schedule();
    });
  }

  /** Fails whatever is still queued and waits for the batch on the wire to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const dropped = this.queue;
    this.queue = [];
    for (const p of dropped) p.reject(new PublisherStoppedError());
    await this.sending;
  }

  private schedule(): void {
    if (this.sending || this.stopped) return;
    if (this.queue.length >= this.options.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.options.lingerMs);
    }
  }

  private flush(): void {
    if (this.sending || this.stopped || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async send(batch: Pending[]): Promise<void> {
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages: groupByTopic(batch) });
      this.failures = 0;
      for (const p of batch) p.resolve();
    } catch (e) {
      this.failures++;
      const delayMs = backoffMs(this.failures);
      this.options.logger.error(
        { err: e, messages: batch.length, backoffMs: delayMs },
        'batch publish failed, will retry',
      );
      if (this.stopped) {
        for (const p of batch) p.reject(e as Error);
        return;
      }
      // Back to the front, so a retry never lets newer messages of a payment overtake older ones.
      this.queue.unshift(...batch);
      await sleep(delayMs, undefined, { ref: false });
      if (this.stopped) for (const p of this.queue.splice(0)) p.reject(new PublisherStoppedError());
    }
  }
}

function groupByTopic(batch: Pending[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const p of batch) {
    let entry = byTopic.get(p.topic);
    if (!entry) {
      entry = { topic: p.topic, messages: [] };
      byTopic.set(p.topic, entry);
    }
    entry.messages.push(p.message);
  }
  return [...byTopic.values()];
}
