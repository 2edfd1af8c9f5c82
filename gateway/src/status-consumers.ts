import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EachBatchPayload } from 'kafkajs';
import { decode } from '../../common/kafka/contracts';
import { resolveIfDone, decodeOrPark, processIsolatingPoison, type Settled } from '../../common/kafka/poison-isolation';
import { batchScope } from '../../common/kafka/transient-retry';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { GroupConsumer, type ConsumerContext } from '../../common/kafka/group-consumer';
import { FetchPace, LONG_POLL } from '../../common/kafka/fetch-pace';
import { TOPICS, type TopicNames } from '../../common/kafka/topics';
import type { Stoppable } from '../../common/lifecycle';
import type { Logger } from '../../common/logger';
import { inMessageSpan, inMessageSpans, tracerOf } from '../../common/tracing';
import { listJoiner, type Batcher } from '../../common/batcher';
import type { PaymentStore, StatusUpdate } from './payment-store';
import type { StatusHub } from './status-hub';
import type { FanOutPositions } from './fan-out-positions';

const TRACER = tracerOf('gateway');

/**
 * Writes one batch: invalid events and events the database refuses for good go to the DLQ, one
 * at a time; a database that is briefly away is waited for in place.
 */
async function writeBatch(
  payload: EachBatchPayload,
  write: SharedWrite,
  producer: Sender,
  logger: Logger,
): Promise<Settled> {
  const { batch } = payload;
  const scope = batchScope(payload, logger);
  const target = { producer, topic: batch.topic, partition: batch.partition };
  const decoded = await decodeOrPark('statusPayments', batch.messages, target, scope);
  if (decoded.settled === 'abandoned') return 'abandoned';
  const messages = decoded.items.map((i) => i.message);
  return inMessageSpans(TRACER, TOPICS.statusPayments.name, batch.partition, messages, () =>
    processIsolatingPoison(decoded.items, (items) => write.submit(items.map((i) => i.value)), target, scope),
  );
}

/** Partitions' batches written together (listJoiner). */
type SharedWrite = Batcher<StatusUpdate[], void>;

/**
 * The DB writer: one consumer group across all replicas, applying batches in one statement,
 * forward only, and committing only after the write (a crash replays, which changes nothing).
 * Replaying is also what makes retrying and isolating a batch (writeBatch) safe. The batches of a
 * fetch's partitions, handled concurrently, share a statement while another is on the wire: one
 * commit for a fetch instead of one per partition. A payment's events share its partition, so
 * their order within the statement is kept.
 */
export async function startStatusWriter(
  ctx: ConsumerContext,
  o: { groupId: string; names: TopicNames; store: PaymentStore; producer: Sender },
): Promise<Stoppable> {
  // Fuller fetches under load (fewer broker requests, bigger batched UPDATEs); the rows are not
  // what a subscriber waits on, so up to 100 ms more when quiet costs nobody.
  const tuning = { maxWaitTimeInMs: 100, minBytes: 64 * 1024 };
  const writer = new GroupConsumer({
    ...ctx,
    name: 'status-writer',
    groupId: o.groupId,
    topic: o.names.statusPayments,
    fromBeginning: true,
    tuning,
  });
  const write: SharedWrite = listJoiner((events: StatusUpdate[]) => o.store.applyStatuses(events));
  await writer.start(
    {
      partitionsConsumedConcurrently: 4,
      // A batch abandoned on the way out (stopping, rebalance) must not be committed.
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => resolveIfDone(payload, await writeBatch(payload, write, o.producer, ctx.logger)),
    },
    { pacedCommits: true },
  );
  return writer;
}

const FAN_OUT_FETCH_CYCLE_MS = 20;

/**
 * The fan-out: each replica reads every status event with a group of its own and hands it to its
 * local subscribers, from where it left off (fan-out-positions.ts). Invalid events are the
 * writer's to park.
 */
export async function startStatusBroadcast(
  ctx: ConsumerContext,
  o: { names: TopicNames; hub: StatusHub; positions: FanOutPositions },
): Promise<Stoppable> {
  await o.positions.fillFrom(ctx.kafka, o.names.statusPayments);
  const groupId = `gateway-broadcast-${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const broadcast = new GroupConsumer({
    ...ctx,
    name: 'status-broadcast',
    groupId,
    topic: o.names.statusPayments,
    fromBeginning: false,
    tuning: LONG_POLL,
    resume: o.positions,
  });
  // At most one fetch every 20 ms: under load one fetch per many events rather than one per
  // handful, for at most 20 ms more before a subscriber hears of a change.
  const pace = new FetchPace(broadcast.consumer, FAN_OUT_FETCH_CYCLE_MS);
  const eachBatch = ({ batch }: EachBatchPayload): Promise<void> => {
    for (const message of batch.messages) {
      const decoded = decode('statusPayments', message.value);
      if (decoded.ok)
        inMessageSpan(TRACER, TOPICS.statusPayments.name, message, batch.partition, () => o.hub.publish(decoded.value));
    }
    return pace.hold();
  };
  // Never committed: the group is this process's alone and its positions are kept in memory, so a
  // commit would be read by nobody, and it cost the broker a write per batch (most of its requests).
  // Every partition's batch at once, as FetchPace needs.
  const partitionsConsumedConcurrently = TOPICS.statusPayments.partitions;
  await broadcast.start({ autoCommit: false, partitionsConsumedConcurrently, eachBatch }, { awaitJoin: true });
  return broadcast;
}
