import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Admin, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { decode, type MoneyOperationResult } from '../../common/kafka/contracts';
import { TOPICS, type TopicNames } from '../../common/kafka/topics';
import { GroupConsumer, type ConsumerContext } from '../../common/kafka/group-consumer';
import { ResumePositions } from '../../common/kafka/resume-positions';
import { parkMessage, type DlqTarget } from '../../common/kafka/poison-isolation';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { batchScope, type ConsumerScope } from '../../common/kafka/transient-retry';
import type { Stoppable } from '../../common/lifecycle';
import type { Logger } from '../../common/logger';
import { inMessageSpan, tracerOf } from '../../common/tracing';
import { waitFor } from '../../common/wait-for';
import { isUuid } from '../../common/ids';

export interface ResultsListenerOptions {
  /** No session: the group is this process's alone, nobody waits for a rebalance. */
  consumers: Omit<ConsumerContext, 'sessionTimeoutMs'>;
  names: TopicNames;
  /** The paymaster group; the listener's own group is derived from it, unique per process. */
  groupId: string;
  /** Cheap filter by message key (the payment id), before any decoding. */
  holds: (paymentId: string) => boolean;
  onResult: (result: MoneyOperationResult) => void;
  /** Whether this process owns the `payments` partition of that number: its owner parks the invalid results of the same number. */
  ownsPartition: (partition: number) => boolean;
  /** For the DLQ, which takes raw messages. */
  producer: Sender;
  logger: Logger;
  /** Reads where the topic ends before the listener starts (see start). */
  admin: Admin;
}

/** Committing where it begins, once joined; a start that takes longer fails the paymaster's start. */
const START_COMMIT_TIMEOUT_MS = 60_000;
/** Finding where the topic ends: a topic just created may not have its leaders in place yet. */
const ENDS_TIMEOUT_MS = 10_000;

const resultsGroupId = (group: string): string =>
  `${group}-results-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Every paymaster process reads ALL of `money-operation-results` in a group of its own: the result
 * for a payment lands on whichever partition money-storage chose, not necessarily one this process
 * reads `payments` from. It starts at the end (earlier answers belong to earlier processes).
 *
 * When kafkajs restarts the consumer on its own (after a broker outage, or a crash under load), a
 * partition would start at the end again and skip every answer published meanwhile, turning
 * those payments into deadline ERRORs; so every join resumes where this process left off
 * (ResumePositions), from where each partition ended before the listener began. It commits (where
 * it begins, then as it goes) only for the consumer-lag metric; the broker forgets the group
 * `offsets.retention.minutes` (7 days) after the process is gone.
 */
export class ResultsListener implements Stoppable {
  private readonly group: GroupConsumer;
  private readonly positions = new ResumePositions();
  /** This process's own group (see above). */
  readonly groupId: string;

  constructor(private readonly o: ResultsListenerOptions) {
    this.groupId = resultsGroupId(o.groupId);
    // Fuller fetches under load, at most 100 ms of added latency when quiet (next to 0.5-5 s delays).
    this.group = new GroupConsumer({
      ...o.consumers,
      name: 'results-listener',
      groupId: this.groupId,
      topic: o.names.moneyOperationResults,
      fromBeginning: false,
      tuning: { maxWaitTimeInMs: 100, minBytes: 64 * 1024, allowAutoTopicCreation: false },
      resume: this.positions,
    });
  }

  /**
   * Resolves once joined, with every partition's starting point fixed where it ends now (and
   * committed, see commitStart). Payments may be taken from then on: the answer to a debit sent
   * later lies past that point.
   */
  async start(): Promise<void> {
    const topic = this.o.names.moneyOperationResults;
    const ends = await waitFor(
      `where ${topic} ends`,
      () => this.o.admin.fetchTopicOffsets(topic),
      ENDS_TIMEOUT_MS,
      200,
    );
    this.positions.seed(ends);
    // A group that cannot join fails the start, rather than taking payments whose answers it cannot read.
    await this.group.start({ eachBatch: (p) => this.onBatch(p) }, { pacedCommits: true, awaitJoin: true });
    try {
      await this.commitStart(ends.map(({ partition, offset }) => ({ topic, partition, offset })));
    } catch (e) {
      // Nothing of a failed start may go on: its watchdog would take the silence for a stall.
      await this.group.stop().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Where it begins, committed once joined: kafkajs commits only what a batch resolved, so a
   * partition no answer has come to would otherwise have no commit, and the lag metric would read
   * 0 there however far behind a stuck listener fell. Tried again while it fails (a coordinator
   * still loading); kafkajs skips it without a word while the consumer rejoins after a crash, and
   * the partitions' first commits then come with their first answers. (Should the timer have
   * committed past it first, this moves that commit back: only the lag figure reads these
   * commits, and it is right again at the next.)
   */
  private commitStart(starts: Array<{ topic: string; partition: number; offset: string }>): Promise<true> {
    return waitFor(
      `the results listener's commit of where it begins`,
      async () => {
        await this.group.consumer.commitOffsets(starts);
        return true as const;
      },
      START_COMMIT_TIMEOUT_MS,
      200,
    );
  }

  stop(): Promise<void> {
    return this.group.stop();
  }

  /**
   * Every process reads every result, so an invalid one is parked only by the process that owns
   * the `payments` partition of the same number (both topics have the same partition count, and
   * a result is keyed like its payment): exactly once while the group is stable. During a
   * rebalance the old and the new owner may both see themselves as owner, or neither, so a message
   * may be parked twice or not at all. Acceptable: an invalid result decides no payment (its
   * deadline and compensation do), the DLQ is for forensics and replay, duplicates there carry the
   * same source offset, and every process still logs it with its partition and offset.
   */
  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const parks = this.o.ownsPartition(batch.partition);
    const scope = batchScope(payload, this.o.logger);
    for (const message of batch.messages) {
      // Results are keyed by payment id; a key of another shape is decoded and checked instead.
      const key = message.key?.toString();
      if (!parks && key !== undefined && isUuid(key) && !this.o.holds(key)) continue;
      const decoded = decode('moneyOperationResults', message.value, message.headers);
      if (decoded.ok) this.answer(decoded.value, message, batch.partition);
      // Not awaited: a DLQ that is slow or away must not hold back the good results behind it
      // (their payments' deadlines run); this group is private and commits as it goes anyway.
      else if (parks)
        this.parkAside(
          { producer: this.o.producer, topic: batch.topic, partition: batch.partition },
          message,
          decoded.error,
          scope,
        );
      else
        this.o.logger.warn(
          { partition: batch.partition, offset: message.offset, error: decoded.error },
          'invalid money-operation result, left to the partition owner to park',
        );
    }
    await payload.heartbeat();
  }

  /** In the result's trace: it continues the money-storage span that produced it. */
  private answer(result: MoneyOperationResult, message: KafkaMessage, partition: number): void {
    inMessageSpan(tracerOf('paymaster'), TOPICS.moneyOperationResults.name, message, partition, () =>
      this.o.onResult(result),
    );
  }

  /** Outlives its batch, so it must not heartbeat one that is over. */
  private parkAside(target: DlqTarget, message: KafkaMessage, error: string, scope: ConsumerScope): void {
    parkMessage(
      target,
      message,
      { error, class: 'deterministic' },
      { ...scope, heartbeat: () => Promise.resolve() },
    ).catch((e: unknown) =>
      this.o.logger.error(
        { err: e, partition: target.partition, offset: message.offset },
        'could not park an invalid result',
      ),
    );
  }
}
