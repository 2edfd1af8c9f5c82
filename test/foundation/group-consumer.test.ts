import { createKafka, createProducer, publish } from '../../common/kafka/client';
import { GroupConsumer } from '../../common/kafka/group-consumer';
import { statusChangedMessage } from '../../common/kafka/messages';
import { asPaymentId, asUserId, newPaymentId } from '../../common/ids';
import { createLogger, type Logger } from '../../common/logger';
import { withTimeout } from '../../common/with-timeout';
import type { EachBatchPayload } from 'kafkajs';
import { restartableCrash } from '../support/kafka-crash';
import { awaitCommittedToEnd, eventually, freshTopics, kafkaBrokers, uniqueName } from '../support/infra';

const logger = createLogger('test', 'silent');
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'group-consumer-test', logger });

interface RigOptions {
  logger?: Logger;
  /** Runs first in every batch; a throw fails the batch, as a handler's would. */
  beforeBatch?: (payload: EachBatchPayload) => void;
}

/** Sent by the rig, a send each, so they come in several batches. */
const RIG_EVENTS = 12;

/** RIG_EVENTS CREATED events on statusPayments, and a consumer that waits for all. */
async function pacedRig(prefix: string, commitIntervalMs: number, options: RigOptions = {}) {
  const { names } = await freshTopics(prefix);
  const groupId = uniqueName(prefix);
  const commits: unknown[] = [];
  const reader = new GroupConsumer({
    kafka,
    logger: options.logger ?? logger,
    name: 'paced',
    groupId,
    topic: names.statusPayments,
    fromBeginning: true,
    stallMs: 60_000,
    commitIntervalMs,
    onStall: () => undefined,
  });
  reader.consumer.on(reader.consumer.events.COMMIT_OFFSETS, (e) => commits.push(e.payload));
  const seen = new Set<string>();
  let all!: () => void;
  const allSeen = new Promise<void>((resolve) => (all = resolve));
  await reader.start(
    {
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => {
        options.beforeBatch?.(payload);
        for (const m of payload.batch.messages) seen.add(String(m.key));
        if (seen.size === RIG_EVENTS) all();
        return Promise.resolve();
      },
    },
    { pacedCommits: true },
  );
  const producer = createProducer(kafka);
  await producer.connect();
  for (let i = 0; i < RIG_EVENTS; i++) {
    const paymentId = asPaymentId(newPaymentId());
    await publish(producer, names, 'statusPayments', [
      { key: paymentId, value: statusChangedMessage({ paymentId, userId: asUserId('1') }, 'CREATED', null) },
    ]);
  }
  await producer.disconnect();
  await withTimeout(allSeen, 20_000, 'every message');
  return { names, groupId, reader, commits };
}

describe('GroupConsumer', () => {
  it('with paced commits, commits nothing per batch and everything it finished on stop()', async () => {
    const { names, groupId, reader, commits } = await pacedRig('group_paced_stop', 600_000);
    expect(commits).toEqual([]);
    await reader.stop();
    expect(commits).toHaveLength(1);
    await awaitCommittedToEnd(groupId, names.statusPayments, 5_000);
  });

  it('with paced commits, commits on its timer while it runs', async () => {
    const { names, groupId, reader, commits } = await pacedRig('group_paced_timer', 100);
    try {
      await awaitCommittedToEnd(groupId, names.statusPayments);
      expect(commits.length).toBeGreaterThan(0);
    } finally {
      await reader.stop();
    }
  });

  it('with paced commits, commits nothing through a batch of a run kafkajs has crashed out of', async () => {
    const failedCommits: unknown[] = [];
    // The silent logger with its warn recorded: everything else, child() included, as before.
    const recording = Object.assign(Object.create(logger) as Logger, {
      warn: (o: unknown, message?: string) =>
        void (message?.startsWith('offset commit failed') && failedCommits.push(o)),
    });
    let crashed = false;
    const { names, groupId, reader } = await pacedRig('group_paced_crash', 20, {
      logger: recording,
      beforeBatch: (payload) => {
        if (crashed) return;
        crashed = true;
        // Handled but not committed when the run crashes: what a commit through its batch would carry.
        payload.resolveOffset(payload.batch.messages[0]!.offset);
        throw restartableCrash();
      },
    });
    try {
      // Every message was read again by the restarted run (the rig waits for that), and committed by it.
      await awaitCommittedToEnd(groupId, names.statusPayments);
      expect(crashed).toBe(true);
      expect(failedCommits).toEqual([]);
    } finally {
      await reader.stop();
    }
  });

  it('reads its topic once started and leaves the group on stop()', async () => {
    const { names } = await freshTopics('group_consumer');
    const reader = new GroupConsumer({
      kafka,
      logger,
      name: 'reader',
      groupId: uniqueName('reader'),
      topic: names.statusPayments,
      fromBeginning: true,
      stallMs: 60_000,
      onStall: () => undefined,
    });
    let seen!: (key: string) => void;
    const first = new Promise<string>((resolve) => (seen = resolve));
    await reader.start({ eachMessage: ({ message }) => Promise.resolve(seen(String(message.key))) });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const paymentId = asPaymentId(newPaymentId());
      await publish(producer, names, 'statusPayments', [
        { key: paymentId, value: statusChangedMessage({ paymentId, userId: asUserId('1') }, 'CREATED', null) },
      ]);
      expect(await withTimeout(first, 20_000, 'the message')).toBe(paymentId);
    } finally {
      await Promise.all([producer.disconnect(), reader.stop()]);
    }
  });

  it('reports a stall to the handler it was given, and only its own', async () => {
    const { names } = await freshTopics('group_stall');
    const reports: string[] = [];
    let stalled!: () => void;
    const reported = new Promise<void>((resolve) => (stalled = resolve));
    // Never started, so never fetching: silent from the start.
    const silent = new GroupConsumer({
      kafka,
      logger,
      name: 'silent',
      groupId: uniqueName('silent'),
      topic: names.payments,
      fromBeginning: true,
      stallMs: 300,
      onStall: (name) => {
        reports.push(name);
        stalled();
      },
    });
    const other = new GroupConsumer({
      kafka,
      logger,
      name: 'other',
      groupId: uniqueName('other'),
      topic: names.payments,
      fromBeginning: true,
      stallMs: 60_000,
      onStall: (name) => reports.push(name),
    });
    try {
      await withTimeout(reported, 5_000, 'the stall report');
      expect(reports[0]).toBe('silent');
      expect(reports).not.toContain('other');
    } finally {
      await Promise.all([silent.stop(), other.stop()]);
    }
  });

  it('stops waiting for the group to be left after its leave timeout, when kafkajs holds a JoinGroup in flight', async () => {
    const { names } = await freshTopics('group_leave');
    const groupId = uniqueName('leave');
    const options = { kafka, logger, groupId, topic: names.statusPayments, fromBeginning: true, stallMs: 60_000 };
    const busy = new GroupConsumer({ ...options, name: 'busy', onStall: () => undefined });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inBatch!: () => void;
    const busyInBatch = new Promise<void>((resolve) => (inBatch = resolve));
    // Busy in a batch, it does not rejoin, so the coordinator holds the newcomer's JoinGroup.
    await busy.start({ eachBatch: () => (inBatch(), held) });
    const producer = createProducer(kafka);
    await producer.connect();
    const paymentId = asPaymentId(newPaymentId());
    await publish(producer, names, 'statusPayments', [
      { key: paymentId, value: statusChangedMessage({ paymentId, userId: asUserId('1') }, 'CREATED', null) },
    ]);
    await producer.disconnect();
    await withTimeout(busyInBatch, 20_000, 'the busy batch');

    const warnings: unknown[] = [];
    const newcomer = new GroupConsumer({
      ...options,
      name: 'newcomer',
      onStall: () => undefined,
      leaveTimeoutMs: 300,
      logger: { ...logger, warn: (o: unknown) => void warnings.push(o) } as unknown as typeof logger,
    });
    const admin = kafka.admin();
    await admin.connect();
    const started = newcomer.start({ eachBatch: () => Promise.resolve() }).catch(() => undefined);
    try {
      // The newcomer's JoinGroup put the group into a rebalance that waits for the busy member.
      await eventually('the newcomer waiting in JoinGroup', async () => {
        const { groups } = await admin.describeGroups([groupId]);
        return groups[0]?.state === 'PreparingRebalance' ? true : undefined;
      });
      await withTimeout(newcomer.stop(), 5_000, 'stopping the newcomer');
      expect(warnings).toEqual([expect.objectContaining({ consumer: 'newcomer', leaveTimeoutMs: 300 })]);
    } finally {
      release();
      await Promise.all([busy.stop(), admin.disconnect()]);
      await started;
      // What the stop stopped waiting for goes on in kafkajs once the busy member has left: let it end within the test.
      await newcomer.consumer.disconnect();
    }
  });
});
