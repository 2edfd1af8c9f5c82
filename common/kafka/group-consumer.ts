import type { Consumer, ConsumerConfig, ConsumerRunConfig, Kafka } from 'kafkajs';
import type { Stoppable } from '../lifecycle';
import type { Logger } from '../logger';
import { groupSession } from './client';
import { ignoreStall, watchConsumer, type StallHandler } from './consumer-watchdog';
import { waitForGroupJoin } from './group-join';
import { TimeoutError, withTimeout } from '../with-timeout';

/** Inside every service's stop deadline, with room for the stages after the consumers. */
export const LEAVE_TIMEOUT_MS = 10_000;

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
  /** How long `stop` waits for kafkajs to leave the group; LEAVE_TIMEOUT_MS when absent. */
  leaveTimeoutMs?: number;
  /** Fetch sizing and the like, per consumer. */
  tuning?: Omit<ConsumerConfig, 'groupId' | 'sessionTimeout' | 'heartbeatInterval'>;
}

/** What a service hands every consumer it starts; each adds where it reads. */
export type ConsumerContext = Pick<
  GroupConsumerOptions,
  'kafka' | 'stallMs' | 'sessionTimeoutMs' | 'onStall' | 'logger'
>;

/** What every consumer of a service shares, from its settings; without a supervisor, a stall is only logged. */
export const consumerContext = (
  kafka: Kafka,
  settings: { KAFKA_CONSUMER_STALL_MS: number; KAFKA_SESSION_TIMEOUT_MS: number },
  logger: Logger,
  onStall: StallHandler = ignoreStall,
): ConsumerContext => ({
  kafka,
  stallMs: settings.KAFKA_CONSUMER_STALL_MS,
  sessionTimeoutMs: settings.KAFKA_SESSION_TIMEOUT_MS,
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

  constructor(private readonly o: GroupConsumerOptions) {
    const session = o.sessionTimeoutMs === undefined ? {} : groupSession(o.sessionTimeoutMs);
    this.consumer = o.kafka.consumer({ ...o.tuning, ...session, groupId: o.groupId });
    this.stopWatching = watchConsumer(this.consumer, o.name, o.stallMs, o.logger, o.onStall);
  }

  /**
   * Connects, subscribes and runs. With `awaitJoin`, resolves only once the group is joined: a
   * consumer that starts at the log's end must have joined before anything it should see is produced.
   */
  async start(run: ConsumerRunConfig, { awaitJoin = false } = {}): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.o.topic, fromBeginning: this.o.fromBeginning });
    const joined = awaitJoin ? waitForGroupJoin(this.consumer) : undefined;
    void joined?.catch(() => undefined); // awaited below; a failed run must not leave it unhandled
    await this.consumer.run(run);
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
