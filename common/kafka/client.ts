import { Kafka, logLevel, type Admin, type IHeaders, type LogEntry, type Producer, type ProducerConfig } from 'kafkajs';
import type { FailureClass } from '../failure-class';
import { classifyFailure, describeFailure } from '../failure-class';
import type { Logger } from '../logger';
import { newEventId, randomHex } from '../ids';
import { encode, type MessageOf } from './contracts';
import { kafkaLogLevels } from './log-levels';
import { fixKafkajsDisconnect } from './disconnect-fix';
import { PATCHED_KAFKAJS_VERSION, fixKafkajsIdleTimer, installedKafkajsVersion } from './request-queue-fix';
import { clusterDurability, creationSettings, topicsWithLeaders } from './topic-durability';
import { TOPICS, TOPIC_KEYS, dlqOf, topicNames, type TopicKey, type TopicNames } from './topics';
import { keyPartitioner } from './key-partitioner';
import { useFastRecordEncoder } from './record-encoder';
import { useFastRecordDecoder } from './record-decoder';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** How long a connection attempt may take; kept short so an outage is noticed quickly. */
  connectionTimeoutMs?: number;
}

let warnedUnfixed = false;
function warnKafkajsUnfixedOnce(logger: Logger): void {
  if (warnedUnfixed) return;
  warnedUnfixed = true;
  logger.warn(
    { kafkajs: installedKafkajsVersion(), fixedFor: PATCHED_KAFKAJS_VERSION },
    'kafkajs fixes not applied (another kafkajs release, or a produce request built or a fetch decoded before createKafka); check common/kafka/request-queue-fix.ts, disconnect-fix.ts, record-encoder.ts and record-decoder.ts',
  );
}

export function createKafka(settings: KafkaSettings): Kafka {
  // All before the first request is built; `&&` would skip the rest where one fails.
  const fixed = [fixKafkajsIdleTimer(), fixKafkajsDisconnect(), useFastRecordEncoder(), useFastRecordDecoder()];
  if (fixed.includes(false)) warnKafkajsUnfixedOnce(settings.logger);
  const log = settings.logger.child({ component: 'kafkajs' });
  const levelOf = kafkaLogLevels();
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs ?? 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[levelOf(level, entry)](asErr(rest), message);
      },
  });
}

/**
 * kafkajs logs a thrown error as `error` with its `stack` beside it (a handler's failure, say);
 * as `err` it goes through the logger's serializer, which keeps a statement's values out.
 */
function asErr(fields: Record<string, unknown>): Record<string, unknown> {
  if (!(fields.error instanceof Error)) return fields;
  const { error, stack: _stack, ...rest } = fields;
  return { ...rest, err: error };
}

/** A header as text; kafkajs gives a Buffer, a string, or an array of them for a repeated header (the first counts). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0]?.toString() : v.toString();
}

/** Session and heartbeat for a consumer group member: heartbeats well inside the session. */
export const groupSession = (sessionTimeoutMs: number) => ({
  sessionTimeout: sessionTimeoutMs,
  heartbeatInterval: Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
});

/** A W3C traceparent for a new trace; carried in headers so a payment can be followed across services. */
export const newTraceparent = (): string => `00-${randomHex(16)}-${randomHex(8)}-01`;

export interface Outgoing<T extends TopicKey> {
  key: string;
  value: MessageOf<T>;
  traceparent?: string;
}

/** Validates, serialises and stamps headers (event-id, traceparent) on every message a service sends. */
export function toKafkaMessage<T extends TopicKey>(
  topic: T,
  m: Outgoing<T>,
): { key: string; value: Buffer; headers: IHeaders } {
  return {
    key: m.key,
    value: encode(topic, m.value),
    headers: { 'event-id': newEventId(), traceparent: m.traceparent ?? newTraceparent() },
  };
}

/**
 * An idempotent producer: retries cannot duplicate or reorder messages within a partition. Keys
 * go to the partitions kafkajs' default partitioner picks, at a fraction of its cost (key-partitioner.ts).
 */
export function createProducer(kafka: Kafka, options: Pick<ProducerConfig, 'createPartitioner'> = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    createPartitioner: keyPartitioner,
    ...options,
  });
}

export async function publish<T extends TopicKey>(
  producer: Pick<Producer, 'send'>,
  names: TopicNames,
  topic: T,
  messages: Outgoing<T>[],
): Promise<void> {
  if (messages.length === 0) return;
  await producer.send({ topic: names[topic], acks: -1, messages: messages.map((m) => toKafkaMessage(topic, m)) });
}

/** Why a message was parked: a short reason (no other message's data) and whether a replay may pass. */
export interface DlqFailure {
  error: string;
  class: FailureClass;
}

/**
 * The headers a producer can send again: string and Buffer values (and lists of them). A decoded
 * record may hold others: kafkajs gathers a header named `toString` or `__proto__` with the value
 * it finds on Object.prototype (`[Object.prototype, <value>]`), and sending that fails as a TypeError.
 */
export function sendableHeaders(headers: IHeaders | undefined): IHeaders {
  const sendable = Object.create(null) as IHeaders;
  const isSendable = (v: unknown): v is string | Buffer => typeof v === 'string' || Buffer.isBuffer(v);
  for (const [key, value] of Object.entries(headers ?? {})) {
    const kept = Array.isArray(value) ? (value as unknown[]).filter(isSendable) : isSendable(value) ? value : undefined;
    if (kept !== undefined) sendable[key] = kept;
  }
  return sendable;
}

/**
 * What parking adds to a message's headers: why, and where it came from (`source`: its position
 * there); `valueDropped` says why a copy carries no value (its size, or why the DLQ refused it).
 */
export function dlqHeaders(
  failure: DlqFailure,
  sourceTopic: string,
  source: Record<string, string>,
  valueDropped?: string,
): IHeaders {
  return {
    'dlq-error': failure.error.slice(0, 2000),
    'dlq-class': failure.class,
    'dlq-source-topic': sourceTopic,
    ...source,
    ...(valueDropped === undefined ? {} : { 'dlq-value-dropped': valueDropped.slice(0, 200) }),
  };
}

/** Parks a message that cannot be processed, with the reason, so the consumer can move on. */
export async function sendToDlq(
  producer: Pick<Producer, 'send'>,
  sourceTopic: string,
  message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders },
  failure: DlqFailure,
  origin: { partition: number; offset: string },
): Promise<void> {
  const origins = { 'dlq-source-partition': String(origin.partition), 'dlq-source-offset': origin.offset };
  const why = dlqHeaders(failure, sourceTopic, origins);
  const send = (m: { key: Buffer | null; value: Buffer | null; headers: IHeaders }) =>
    producer.send({ topic: dlqOf(sourceTopic), acks: -1, messages: [m] });
  try {
    await send({ key: message.key, value: message.value, headers: { ...sendableHeaders(message.headers), ...why } });
  } catch (e) {
    // A copy the DLQ refuses for good (say, too large once these headers are added) must not hold
    // the partition: park what identifies it instead; the original stays readable at its offset.
    if (classifyFailure(e) === 'transient') throw e;
    await send({
      key: message.key?.subarray(0, 1024) ?? null,
      value: null,
      headers: dlqHeaders(failure, sourceTopic, origins, describeFailure(e)),
    });
  }
}

/**
 * Creates every topic and its DLQ if missing, as durable as the cluster allows (`topic-durability.ts`);
 * safe to run from several processes at once.
 */
export async function ensureTopics(admin: Admin, prefix: string, timeoutMs = 60_000): Promise<TopicNames> {
  const names = topicNames(prefix);
  const settings = creationSettings(await clusterDurability(admin));
  const wanted = TOPIC_KEYS.flatMap((key) => [
    { topic: names[key], numPartitions: TOPICS[key].partitions, ...settings },
    { topic: dlqOf(names[key]), numPartitions: 1, ...settings },
  ]);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: false });
    } catch (e) {
      // Another process may have created them between our list and create.
      if (!/already exists/i.test(String((e as Error).message))) throw e;
    }
  }
  await topicsWithLeaders(
    admin,
    wanted.map((t) => t.topic),
    timeoutMs,
  );
  return names;
}
