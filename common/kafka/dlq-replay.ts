import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { createProducer, headerString, sendableHeaders } from './client';
import { dlqOf } from './topics';

export interface ReplayOptions {
  /** The source topic, as named on the broker (with any prefix); its DLQ is `<topic>.dlq`. */
  topic: string;
  /** The first DLQ offset to replay: what was replayed before stays behind it. */
  from: number;
  dryRun: boolean;
}

export interface ReplayReport {
  replayed: number;
  /** Stubs whose value the DLQ refused (`dlq-value-dropped`): only their source position is known. */
  skipped: Array<{ offset: string; sourcePartition: string | undefined; sourceOffset: string | undefined }>;
  /** The offset to pass as `from` next time. */
  next: number;
}

/** The original headers, without what parking added, plus where the replayed copy came from. */
function replayHeaders(m: KafkaMessage): IHeaders {
  const kept = Object.entries(sendableHeaders(m.headers)).filter(([name]) => !name.startsWith('dlq-'));
  return { ...Object.fromEntries(kept), 'dlq-replayed-from': m.offset };
}

/**
 * Produces every parked message of a topic's DLQ, from `from` up to the DLQ's end as it is now,
 * back to its source topic with its own key, value and headers. Once the cause is fixed (a bug, a
 * contract), the consumers take them as if new. Which topics are safe to replay is the caller's
 * call (see infra/dlq-replay.ts): only those whose consumers are idempotent against what they
 * already decided.
 */
export async function replayDlq(kafka: Kafka, o: ReplayOptions): Promise<ReplayReport> {
  const dlq = dlqOf(o.topic);
  const admin = kafka.admin();
  await admin.connect();
  const [offsets] = await admin.fetchTopicOffsets(dlq).finally(() => admin.disconnect());
  // Retention may have removed the oldest entries: start at what is still there.
  const first = Math.max(o.from, Number(offsets!.low));
  const last = Number(offsets!.high) - 1;
  const report: ReplayReport = { replayed: 0, skipped: [], next: Math.max(o.from, last + 1) };
  if (last < first) return report;

  // The services' producer: their partitioner and no topic created by a send. Sends go one at a time, in DLQ order.
  const producer = createProducer(kafka);
  const consumer = kafka.consumer({ groupId: `dlq-replay-${randomUUID()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  try {
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    let settle!: (error?: Error) => void;
    const done = new Promise<void>(
      (resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))),
    );
    consumer.on(consumer.events.CRASH, ({ payload }) => settle(payload.error));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const offset = Number(message.offset);
        if (offset < first || offset > last) return;
        if (message.headers?.['dlq-value-dropped'] !== undefined) {
          report.skipped.push({
            offset: message.offset,
            sourcePartition: headerString(message.headers, 'dlq-source-partition'),
            sourceOffset: headerString(message.headers, 'dlq-source-offset'),
          });
        } else {
          if (!o.dryRun)
            await producer.send({
              topic: o.topic,
              acks: -1,
              messages: [{ key: message.key, value: message.value, headers: replayHeaders(message) }],
            });
          report.replayed++;
        }
        if (offset === last) settle();
      },
    });
    consumer.seek({ topic: dlq, partition: 0, offset: String(first) });
    await done;
    return report;
  } finally {
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
  }
}
