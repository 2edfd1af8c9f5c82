import type { Admin, Consumer, ConsumerGroupJoinEvent, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { decode } from '../../common/kafka/contracts';
import { InflightOffsets, type Ticket } from '../../common/kafka/inflight-offsets';
import { TOPICS, type TopicNames } from '../../common/kafka/topics';
import { GroupConsumer, commitBeforeStopping, type ConsumerContext } from '../../common/kafka/group-consumer';
import { inMessageSpan, traceparentOf, tracerOf } from '../../common/tracing';
import { retryTransient, type ConsumerScope } from '../../common/kafka/transient-retry';
import type { Sender } from '../../common/kafka/self-healing-producer';
import type { Stoppable } from '../../common/lifecycle';
import type { Logger } from '../../common/logger';
import { SharedPromise } from '../../common/shared-promise';
import { rejectInvalidPayment } from './invalid-payment';
import type { PaymentConductor, Publisher } from './payment-conductor';
import { withTimeout } from '../../common/with-timeout';

/** How long a gained partition's first batch may wait for its committed offset before it is fetched again. */
const COMMITTED_LOOKUP_TIMEOUT_MS = 5000;

/** How often (in commits) every position is committed again, moved or not: see commitDone. */
export const RECOMMIT_EVERY = 10;

export interface IntakeOptions {
  consumers: ConsumerContext;
  names: TopicNames;
  groupId: string;
  maxInFlight: number;
  conductor: PaymentConductor;
  /** For the DLQ, which takes raw messages. */
  producer: Sender;
  publisher: Publisher;
  /** Reads the group's committed offsets (see startsAtCommitted). */
  admin: Admin;
  logger: Logger;
}

/**
 * Takes payments from `payments` and hands each to the conductor without waiting for it, so one
 * process holds thousands at once. Offsets: kafkajs's fetch position moves as soon as a message
 * is taken (resolveOffset), while the group's committed offset moves only past payments whose
 * terminal status is acknowledged (InflightOffsets). When `maxInFlight` are held the topic is
 * paused; it resumes once the conductor has drained to 90%.
 */
export class PaymentsIntake implements Stoppable {
  private readonly group: GroupConsumer;
  private readonly consumer: Consumer;
  private readonly offsets = new InflightOffsets();
  private readonly topic: string;
  private readonly resumeAt: number;
  private owned = new Set<number>();
  /** Owned partitions whose first batch since they were gained has not been checked yet (startsAtCommitted). */
  private unchecked = new Set<number>();
  private joins = 0;
  private paused = false;
  private stopping = false;
  private rejecting = 0;
  private commitTimer: NodeJS.Timeout | undefined;
  private readonly committing = new SharedPromise(() => this.commitDone());
  private commits = 0;

  constructor(private readonly o: IntakeOptions) {
    this.topic = o.names.payments;
    this.resumeAt = Math.max(0, Math.floor(o.maxInFlight * 0.9));
    this.group = new GroupConsumer({
      ...o.consumers,
      name: 'payments-intake',
      groupId: o.groupId,
      topic: this.topic,
      fromBeginning: true,
      // Under load the broker answers when 64 KB are ready (fewer, fuller fetches save its CPU);
      // when quiet, within 100 ms, so a resume or a new payment is picked up promptly.
      tuning: { maxWaitTimeInMs: 100, minBytes: 64 * 1024, allowAutoTopicCreation: false },
    });
    this.consumer = this.group.consumer;
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e: ConsumerGroupJoinEvent) => this.onJoin(e.payload));
  }

  async start(): Promise<void> {
    await this.group.start({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
    this.commitTimer = setInterval(() => void this.committing.run(), this.o.consumers.commitIntervalMs);
  }

  /** Whether this process owns partition `partition` of `payments` in the current generation. */
  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Called by the conductor whenever a payment leaves it. */
  maybeResume(): void {
    if (!this.paused || this.stopping || this.load() > this.resumeAt) return;
    this.paused = false;
    this.consumer.resume([{ topic: this.topic }]);
    this.o.logger.debug({ inFlight: this.load() }, 'resumed taking payments');
  }

  /** Stops fetching, abandons unfinished payments for the next owner, commits what is done, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.commitTimer);
    this.consumer.pause([{ topic: this.topic }]);
    const abandoned = this.o.conductor.abandon();
    await commitBeforeStopping(this.committing, 'payments intake', this.o.logger);
    this.o.logger.info({ abandoned }, 'payments intake stopped; unfinished payments are left to the next owner');
    await this.group.stop();
  }

  private load(): number {
    return this.o.conductor.size + this.rejecting;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    // A batch fetched before a rebalance may still arrive for a partition we just lost.
    if (topic !== this.topic || !this.owned.has(partition)) return;
    if (this.unchecked.has(partition) && !this.stopping && !(await this.startsAtCommitted(payload))) {
      await payload.heartbeat();
      return;
    }
    for (const message of payload.batch.messages) {
      if (this.stopping || !payload.isRunning() || payload.isStale()) break;
      if (this.load() >= this.o.maxInFlight) {
        // Unresolved messages are fetched again after the resume.
        this.pause();
        break;
      }
      const ticket = this.offsets.start(topic, partition, message.offset);
      if (ticket) this.take(message, partition, ticket);
      payload.resolveOffset(message.offset);
    }
    await payload.heartbeat();
  }

  /**
   * Whether the first batch of a partition gained at a join may be taken. It may have been fetched
   * before that join, while this process owned the partition in an earlier generation: a join that
   * kafkajs makes from inside one fetch loop (consumerGroup.recoverFromFetch, on a stale-metadata
   * error) leaves the loops of the other brokers running, and their answers are handed over under
   * the new generation, whose position then moves on from them. Starting above the group's
   * committed offset, such a batch would skip the offsets below it, which this process abandoned
   * when it lost the partition and the owner in between may have abandoned too: it is dropped and
   * kafkajs sent back to the committed offset. A duplicate is harmless, a skip is not. Checked once
   * per gain (after the seek, a first offset still above the commit is a gap in the log).
   */
  private async startsAtCommitted(payload: EachBatchPayload): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const first = payload.batch.messages[0];
    if (!first) return true;
    const joins = this.joins;
    let committed: number;
    try {
      // Inside the broker's fetch loop: every partition it leads waits for the lookup.
      committed = await withTimeout(this.committedOffset(partition), COMMITTED_LOOKUP_TIMEOUT_MS, 'committed offset');
    } catch (e) {
      // Not taken, not resolved: kafkajs fetches the same again and it is checked then.
      this.o.logger.warn({ err: e, partition }, 'could not read the committed offset of a gained partition');
      return false;
    }
    // A join meanwhile: its next batch is checked instead (the partition stays unchecked if still ours).
    if (joins !== this.joins || !this.owned.has(partition)) return false;
    this.unchecked.delete(partition);
    if (Number(first.offset) <= committed) return true;
    this.o.logger.warn(
      { partition, firstOffset: first.offset, committed },
      'a batch fetched before the last rebalance starts past the committed offset; consuming again from there',
    );
    this.consumer.seek({ topic, partition, offset: String(committed) });
    return false;
  }

  /** The group's committed offset of `partition`, or where kafkajs starts without one (the log's start). */
  private async committedOffset(partition: number): Promise<number> {
    const [offsets] = await this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: [this.topic] });
    const committed = Number(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    if (committed >= 0) return committed;
    const ends = await this.o.admin.fetchTopicOffsets(this.topic);
    return Number(ends.find((p) => p.partition === partition)?.low ?? 0);
  }

  private take(message: KafkaMessage, partition: number, ticket: Ticket): void {
    const decoded = decode('payments', message.value, message.headers);
    if (decoded.ok) {
      // The intake span is short; the stages that follow are its children through the traceparent the conductor keeps.
      inMessageSpan(tracerOf('paymaster'), TOPICS.payments.name, message, partition, (span) =>
        this.o.conductor.start(decoded.value, traceparentOf(span), ticket),
      );
      return;
    }
    this.rejecting++;
    void this.rejectUntilDone(message, ticket, decoded.error).finally(() => {
      this.rejecting--;
      this.maybeResume();
    });
  }

  /**
   * Outside any batch (the intake never awaits a payment), so nothing to heartbeat; it gives up only
   * when stopping. A rejection that can never succeed is logged and passed: holding the offset
   * would stall the partition's commits for good, and the message stays at its source offset.
   */
  private async rejectUntilDone(message: KafkaMessage, ticket: Ticket, error: string): Promise<void> {
    const scope: ConsumerScope = {
      isActive: () => !this.stopping,
      heartbeat: () => Promise.resolve(),
      logger: this.o.logger,
    };
    const rejected = await retryTransient(
      'invalid payment',
      () => rejectInvalidPayment(this.o, ticket.topic, ticket.partition, message, error),
      scope,
    );
    if (rejected.kind === 'deterministic')
      this.o.logger.error(
        { err: rejected.error, partition: ticket.partition, offset: message.offset },
        'could not park an invalid payment; skipped',
      );
    if (rejected.kind !== 'abandoned') ticket.done();
  }

  private pause(): void {
    if (!this.paused) this.o.logger.debug({ inFlight: this.load() }, 'in-flight limit reached, pausing payments');
    this.paused = true;
    this.consumer.pause([{ topic: this.topic }]);
  }

  /**
   * A new generation: forget the partitions we no longer own and abandon their payments (their
   * next owner redoes them from the last commit). Partitions assigned to us again keep their
   * tracking and their payments in flight, even under a new member id (a session that expired
   * while this process was starved of CPU): throwing them away would restart every payment's
   * delays, and a process starved again before they end would never finish one. Keeping them is
   * safe because every offset tracked here was started here and is held or finished here, so
   * skipping it on the refetch loses nothing; if another member owned the partition meanwhile,
   * both conducted the same payments, which is harmless, and a commit of ours behind its own only
   * causes redelivery. A partition gained has its first batch checked (startsAtCommitted).
   */
  private onJoin(payload: ConsumerGroupJoinEvent['payload']): void {
    const before = this.owned;
    this.owned = new Set(payload.memberAssignment[this.topic] ?? []);
    this.unchecked = new Set([...this.owned].filter((p) => !before.has(p) || this.unchecked.has(p)));
    this.joins += 1;
    const dropped = this.offsets.retain((t, p) => t === this.topic && this.owned.has(p));
    const lost = new Set(dropped.map((d) => d.partition));
    const abandoned = lost.size > 0 ? this.o.conductor.abandon((t) => lost.has(t.partition)) : 0;
    this.o.logger.info({ partitions: [...this.owned], dropped: [...lost], abandoned }, 'payments partitions assigned');
  }

  /**
   * Commits every offset whose payments are done; run through `committing`, one commit at a time.
   * kafkajs skips a commit without a word while its run is stopping (a crash it restarts from), and
   * the call resolves as if the commit were made: every RECOMMIT_EVERY-th commit offers every
   * position again, so a skipped one cannot leave the group's offset behind for good (the next
   * owner would conduct finished payments again, and the lag would read high).
   */
  private async commitDone(): Promise<void> {
    this.commits += 1;
    if (this.commits % RECOMMIT_EVERY === 0) this.offsets.forgetCommitted();
    const positions = this.offsets.toCommit();
    if (positions.length === 0) return;
    try {
      await this.consumer.commitOffsets(positions);
      this.offsets.markCommitted(positions);
    } catch (e) {
      // A rebalance in progress refuses commits; the next tick (or the next owner) catches up.
      this.o.logger.warn({ err: e }, 'offset commit failed');
    }
  }
}
