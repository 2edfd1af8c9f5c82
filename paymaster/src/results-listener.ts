import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { decode, type MoneyOperationResult } from '../../common/kafka/contracts';
import { TOPICS, type TopicNames } from '../../common/kafka/topics';
import { GroupConsumer, type ConsumerContext } from '../../common/kafka/group-consumer';
import { parkMessage, type DlqTarget } from '../../common/kafka/poison-isolation';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { batchScope, type ConsumerScope } from '../../common/kafka/transient-retry';
import type { Stoppable } from '../../common/lifecycle';
import type { Logger } from '../../common/logger';
import { inMessageSpan, tracerOf } from '../../common/tracing';
import { withTimeout } from '../../common/with-timeout';
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

/** Joining and the first fetch; a start that takes longer fails the paymaster's start. */
const POSITION_TIMEOUT_MS = 60_000;
/** Finding where the topic ends: a topic just created may not have its leaders in place yet. */
const ENDS_TIMEOUT_MS = 10_000;

export const resultsGroupId = (group: string): string =>
  `${group}-results-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Every paymaster process reads ALL of `money-operation-results` in a group of its own: the result
 * for a payment lands on whichever partition money-storage chose, not necessarily one this process
 * reads `payments` from. It starts at the end (earlier answers belong to earlier processes).
 *
 * It commits although nobody else will ever read its group: when kafkajs restarts the consumer on
 * its own (after a broker outage, or a crash under load), a partition without a commit would
 * start again at the end and skip every answer published meanwhile, turning those payments into
 * deadline ERRORs. So it commits where each partition ended before it began (see start), then as
 * it goes. The cost is one small group per process, which the broker forgets
 * `offsets.retention.minutes` (7 days) after the process is gone.
 */
export class ResultsListener implements Stoppable {
  private readonly group: GroupConsumer;
  private readonly consumer: Consumer;
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
    });
    this.consumer = this.group.consumer;
  }

  /**
   * Resolves once the listener is positioned: joined, its first fetch done (that is when kafkajs
   * resolves "latest" to a concrete offset), and a position committed for every partition. Only
   * then may payments be taken, or the answer to a debit sent right away could fall before our
   * starting point. The commit is where each partition ended before the listener began, at or
   * before where it starts reading: a restart may read a few answers again, which no payment
   * held here awaits, but skips none. Without it, a partition that had had no answer yet kept no
   * position, and a payment whose answer came there while kafkajs restarted the consumer waited
   * out its deadline and ended in ERROR.
   */
  async start(): Promise<void> {
    const topic = this.o.names.moneyOperationResults;
    const ends = await waitFor(
      `where ${topic} ends`,
      () => this.o.admin.fetchTopicOffsets(topic),
      ENDS_TIMEOUT_MS,
      200,
    );
    const positioned = this.waitPositioned(POSITION_TIMEOUT_MS);
    void positioned.catch(() => undefined); // awaited below; a failed start must not leave it unhandled
    await this.group.start({ eachBatch: (p) => this.onBatch(p) }, { pacedCommits: true });
    try {
      await positioned;
      await this.commitStart(topic, ends);
    } catch (e) {
      // Nothing of a failed start may go on: its watchdog would take the silence for a stall.
      await this.group.stop().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Commits `ends` where the broker holds less, until it holds at least them everywhere: kafkajs'
   * commitOffsets returns without committing while the consumer rejoins after a crash (and throws
   * between the crash and the restart), so only the broker's answer says it is done. Never
   * moves a commit the listener already made back.
   */
  private async commitStart(topic: string, ends: ReadonlyArray<{ partition: number; offset: string }>): Promise<void> {
    await waitFor(
      `the results listener's starting positions committed`,
      async () => {
        const [stored] = await this.o.admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
        const held = new Map(stored?.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        const behind = ends.filter(({ partition, offset }) => (held.get(partition) ?? -1n) < BigInt(offset));
        if (behind.length === 0) return true;
        await this.consumer.commitOffsets(behind.map(({ partition, offset }) => ({ topic, partition, offset })));
        return undefined;
      },
      POSITION_TIMEOUT_MS,
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

  private waitPositioned(timeoutMs: number): Promise<void> {
    const { GROUP_JOIN, FETCH } = this.consumer.events;
    let joined = false;
    const removers: Array<() => void> = [];
    const positioned = new Promise<void>((resolve) => {
      removers.push(
        this.consumer.on(GROUP_JOIN, () => {
          joined = true;
        }),
        this.consumer.on(FETCH, () => {
          if (joined) resolve();
        }),
      );
    });
    return withTimeout(positioned, timeoutMs, 'positioning the results listener').finally(() =>
      removers.forEach((remove) => remove()),
    );
  }
}
