import type { Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';
import type { Stoppable } from '../lifecycle';
import type { Logger } from '../logger';
import { SharedPromise } from '../shared-promise';
import { groupSession } from './client';
import { ignoreStall, watchConsumer, type StallHandler } from './consumer-watchdog';
import { waitForGroupJoin } from './group-join';
import type { ResumePositions } from './resume-positions';
import { TimeoutError, withTimeout } from '../with-timeout';

/** Inside every service's stop deadline, with room for the stages after the consumers. */
const LEAVE_TIMEOUT_MS = 10_000;

/** How long a stop waits for the batches in hand before its last commit (a batch retrying an outage may not end). */
const DRAIN_TIMEOUT_MS = 3000;
/**
 * The commit a stop makes, bounded: right after a broker restart the group coordinator may still
 * be loading, and kafkajs retries a commit for longer than a whole stop may take. Not waiting for
 * it costs the partitions' next owner at most the work of one commit interval, done again.
 */
const LAST_COMMIT_TIMEOUT_MS = 5000;

/**
 * A stop's last commit: a timer's commit under way may predate the last batches, so it lands
 * first, then what is left is sent, within LAST_COMMIT_TIMEOUT_MS.
 */
export async function commitBeforeStopping(
  committing: SharedPromise<void>,
  name: string,
  logger: Logger,
): Promise<void> {
  const last = (async () => {
    await committing.current;
    await committing.run();
  })();
  await withTimeout(last, LAST_COMMIT_TIMEOUT_MS, `${name} committing before it stops`).catch((e: unknown) =>
    logger.warn({ consumer: name, err: e }, 'last commit before stopping did not finish; left undone'),
  );
}

/** What every consumer of every service is given: where it reads, and how it is watched. */
export interface GroupConsumerOptions {
  kafka: Kafka;
  /** For logs and the stall report. */
  name: string;
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  /** Silence after which the consumer counts as stuck (see consumer-watchdog). */
  stallMs: number;
  onStall: StallHandler;
  logger: Logger;
  /** Omitted: kafkajs' default session. */
  sessionTimeoutMs?: number;
  /** For `pacedCommits`: how often resolved offsets are committed. */
  commitIntervalMs?: number;
  /** How long `stop` waits for kafkajs to leave the group; LEAVE_TIMEOUT_MS when absent. */
  leaveTimeoutMs?: number;
  /** Fetch sizing and the like, per consumer. */
  tuning?: Omit<ConsumerConfig, 'groupId' | 'sessionTimeout' | 'heartbeatInterval'>;
  /**
   * For a process's private group: each join seeks to where the last handled batch ended (see
   * ResumePositions); a batch counts as handled, all of it, once its `eachBatch` returned, so a
   * consumer that resolves part of a batch (`eachBatchAutoResolve: false`) cannot have one.
   */
  resume?: ResumePositions;
}

/** What a service hands every consumer it starts; each adds where it reads. */
export type ConsumerContext = Pick<
  GroupConsumerOptions,
  'kafka' | 'stallMs' | 'sessionTimeoutMs' | 'commitIntervalMs' | 'onStall' | 'logger'
>;

/** What every consumer of a service shares, from its settings; without a supervisor, a stall is only logged. */
export const consumerContext = (
  kafka: Kafka,
  settings: { KAFKA_CONSUMER_STALL_MS: number; KAFKA_SESSION_TIMEOUT_MS: number; KAFKA_COMMIT_INTERVAL_MS: number },
  logger: Logger,
  onStall: StallHandler = ignoreStall,
): ConsumerContext => ({
  kafka,
  stallMs: settings.KAFKA_CONSUMER_STALL_MS,
  sessionTimeoutMs: settings.KAFKA_SESSION_TIMEOUT_MS,
  commitIntervalMs: settings.KAFKA_COMMIT_INTERVAL_MS,
  onStall,
  logger,
});

/**
 * One kafkajs consumer, watched for stalls from creation to stop, started and stopped the same
 * way in every service. `consumer` stays reachable for what a consumer does while it runs
 * (pause, resume, commits, events).
 */
export class GroupConsumer implements Stoppable {
  readonly consumer: Consumer;
  private readonly stopWatching: () => void;
  private paced: PacedCommits | undefined;

  constructor(private readonly o: GroupConsumerOptions) {
    const session = o.sessionTimeoutMs === undefined ? {} : groupSession(o.sessionTimeoutMs);
    this.consumer = o.kafka.consumer({ ...o.tuning, ...session, groupId: o.groupId });
    this.stopWatching = watchConsumer(this.consumer, o.name, o.stallMs, o.logger, o.onStall);
    o.resume?.follow(this.consumer, o.topic);
  }

  /**
   * Connects, subscribes and runs. With `awaitJoin`, resolves only once the group is joined, and
   * fails if it is not within 30 s (kafkajs' run also resolves when its first join crashed, and
   * joins again later on its own): a consumer that starts at the log's end must have joined before
   * anything it should see is produced, and one that cannot join must not pass for started.
   * With `pacedCommits`, what the batches resolve is committed every `commitIntervalMs` and on
   * stop, instead of after every batch (kafkajs' autoCommit, which ignores its own interval).
   */
  async start(run: ConsumerRunConfig, options: { awaitJoin?: boolean; pacedCommits?: boolean } = {}): Promise<void> {
    try {
      await this.connectAndRun(run, options);
    } catch (e) {
      // Nothing of a failed start may go on: its watchdog would take the silence for a stall.
      await this.stop().catch(() => undefined);
      throw e;
    }
  }

  private async connectAndRun(run: ConsumerRunConfig, { awaitJoin = false, pacedCommits = false }): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.o.topic, fromBeginning: this.o.fromBeginning });
    const joined = awaitJoin ? waitForGroupJoin(this.consumer) : undefined;
    void joined?.catch(() => undefined); // awaited below; a failed run must not leave it unhandled
    if (pacedCommits) {
      if (this.o.commitIntervalMs === undefined) throw new Error(`${this.o.name}: paced commits need commitIntervalMs`);
      this.paced = new PacedCommits(this.o.name, this.o.commitIntervalMs, this.o.logger);
    }
    const resumable = this.o.resume ? advancing(run, this.o.resume) : run;
    await this.consumer.run(this.paced ? this.paced.wrap(resumable) : resumable);
    await joined;
  }

  /**
   * Leaves the group after the batch in hand (kafkajs waits for it), committing what was resolved.
   * kafkajs also waits for every request still in flight, and a JoinGroup sent soon after a broker
   * restart is held by the coordinator for up to the rebalance timeout (a minute): past
   * `leaveTimeoutMs` we stop waiting. Nothing is lost by that: what was not committed goes to the
   * partitions' next owner once this member's session expires.
   */
  async stop(): Promise<void> {
    this.stopWatching();
    if (this.paced) {
      try {
        this.consumer.pause([{ topic: this.o.topic }]);
      } catch {
        // Not running (a start that failed, or kafkajs between a crash and its restart): no batch to hold back.
      }
      await this.paced.finish();
    }
    const leaveTimeoutMs = this.o.leaveTimeoutMs ?? LEAVE_TIMEOUT_MS;
    try {
      await withTimeout(this.consumer.disconnect(), leaveTimeoutMs, `${this.o.name} leaving its group`);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      this.o.logger.warn(
        { consumer: this.o.name, groupId: this.o.groupId, leaveTimeoutMs },
        'consumer did not leave its group in time; its partitions move when its session expires',
      );
    }
  }
}

/** `run`, its positions moved past each batch its eachBatch returned from. */
function advancing(run: ConsumerRunConfig, positions: ResumePositions): ConsumerRunConfig {
  const { eachBatch } = run;
  if (!eachBatch || run.eachBatchAutoResolve === false) throw new Error('resume positions need whole batches');
  return {
    ...run,
    eachBatch: async (payload) => {
      await eachBatch(payload);
      const last = payload.batch.messages.at(-1);
      if (last) positions.advance(payload.batch.partition, last.offset);
    },
  };
}

/**
 * Commits resolved offsets on a timer, one commit at a time, and once more when stopping, after
 * the batches in hand have ended. A failed commit (a rebalance, the coordinator moving) is left to
 * the next tick; at worst the partitions' next owner redoes what this one finished since its last
 * commit, which every consumer here tolerates.
 */
class PacedCommits {
  /** The newest batch's handle: kafkajs offers commits only through one (any one serves the whole group). */
  private latest: EachBatchPayload | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly committing = new SharedPromise(() => this.commitResolved());

  constructor(
    private readonly name: string,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.committing.run(), intervalMs);
  }

  wrap(run: ConsumerRunConfig): ConsumerRunConfig {
    const { eachBatch } = run;
    if (!eachBatch) throw new Error(`${this.name}: paced commits need eachBatch`);
    const autoResolve = run.eachBatchAutoResolve !== false;
    return {
      ...run,
      autoCommit: false,
      eachBatch: async (payload) => {
        this.latest = payload;
        this.inFlight += 1;
        try {
          await eachBatch(payload);
          // kafkajs would resolve only after this returns: too late for the commit a stop makes
          // as soon as the batch ends.
          if (autoResolve && payload.isRunning() && !payload.isStale())
            payload.resolveOffset(payload.batch.lastOffset());
        } finally {
          this.inFlight -= 1;
          if (this.inFlight === 0) this.idle?.();
        }
      },
    };
  }

  /** Called with the consumer paused: waits (bounded) for the batches in hand, then commits. */
  async finish(): Promise<void> {
    clearInterval(this.timer);
    if (this.inFlight > 0) {
      const idle = new Promise<void>((resolve) => (this.idle = resolve));
      await withTimeout(idle, DRAIN_TIMEOUT_MS, `${this.name} finishing its batches`).catch(() => undefined);
    }
    await commitBeforeStopping(this.committing, this.name, this.logger);
  }

  private async commitResolved(): Promise<void> {
    const payload = this.latest;
    if (!payload) return;
    // A run kafkajs crashed out of has left the group, so its member's commits are refused until
    // the restarted run hands over a batch; that run reads from the last commit again.
    if (!payload.isRunning()) return;
    const { topics } = payload.uncommittedOffsets();
    if (topics.length === 0) return;
    try {
      await payload.commitOffsetsIfNecessary({ topics });
    } catch (e) {
      this.logger.warn({ consumer: this.name, err: e }, 'offset commit failed; the next one carries it');
    }
  }
}
