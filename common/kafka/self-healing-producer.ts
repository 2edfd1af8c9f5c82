import type { Kafka, Producer, ProducerBatch, ProducerRecord, RecordMetadata } from 'kafkajs';
import type { Stoppable } from '../lifecycle';
import type { Logger } from '../logger';
import { withTimeout } from '../with-timeout';
import { createProducer } from './client';

/** What publishing code needs of a producer; both kafkajs' and ours provide it. */
export type Sender = Pick<Producer, 'send' | 'sendBatch'>;

/**
 * An idempotent producer that is thrown away and replaced when a send fails or hangs past
 * `timeoutMs`. After a broker restart kafkajs' producer can stay wedged, every send pending
 * forever; callers that wait on it (the outbox relay) would then never publish again.
 * A send that timed out may still land later: consumers are idempotent per payment, so a
 * duplicate is harmless, while a lost wake-up is not.
 */
/** Long enough for kafkajs' own retries of a healthy cluster, short enough to notice a wedged producer. */
export const SEND_TIMEOUT_MS = 10_000;

export class SelfHealingProducer implements Sender, Stoppable {
  private current: Promise<Producer> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly timeoutMs = SEND_TIMEOUT_MS,
  ) {}

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.use((p) => p.send(record));
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    return this.use((p) => p.sendBatch(batch));
  }

  async stop(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await (await current?.catch(() => undefined))?.disconnect();
  }

  private async use<T>(action: (p: Producer) => Promise<T>): Promise<T> {
    const connecting = (this.current ??= this.connect());
    try {
      return await withTimeout(connecting.then(action), this.timeoutMs, 'Kafka send');
    } catch (e) {
      if (this.current === connecting) {
        this.current = undefined;
        this.logger.warn({ err: e }, 'Kafka producer replaced after a failed send');
        void connecting.then((p) => p.disconnect()).catch(() => undefined);
      }
      throw e;
    }
  }

  private async connect(): Promise<Producer> {
    const producer = createProducer(this.kafka);
    await producer.connect();
    return producer;
  }
}
