import type { Consumer } from 'kafkajs';
import { ignoreStall } from '../../common/kafka/consumer-watchdog';
import type { Ticket } from '../../common/kafka/inflight-offsets';
import type { PaymentConductor, Publisher } from '../../paymaster/src/payment-conductor';
import { PaymentsIntake, RECOMMIT_EVERY } from '../../paymaster/src/payments-intake';
import { eventually, freshTopics, testKafka, uniqueName } from '../support/infra';
import { payment, quietLogger, sendPayments, testProducer } from './helpers';

/** Finishes every payment as soon as it is handed over: only the intake's commits are under test. */
const instantConductor = {
  size: 0,
  start: (_payment: unknown, _traceparent: unknown, ticket: Ticket) => ticket.done(),
  abandon: () => 0,
} as unknown as PaymentConductor;

describe('the payments intake’s commits', () => {
  it('reach the broker even after kafkajs skipped one without a word', async () => {
    const { names } = await freshTopics('intake_commits');
    const kafka = testKafka();
    const admin = kafka.admin();
    const producer = await testProducer();
    await admin.connect();
    const groupId = uniqueName('intake-commits');
    const intake = new PaymentsIntake({
      consumers: { kafka, stallMs: 60_000, commitIntervalMs: 50, onStall: ignoreStall, logger: quietLogger() },
      names,
      groupId,
      maxInFlight: 1000,
      conductor: instantConductor,
      producer,
      publisher: { publish: () => Promise.resolve() } as unknown as Publisher,
      admin,
      logger: quietLogger(),
    });
    // What kafkajs does while its run is stopping (runner.js: "consumer not running, exiting"): the
    // call resolves and nothing is committed. Here the first commit with anything in it.
    const consumer = (intake as unknown as { consumer: Consumer }).consumer;
    const commit = consumer.commitOffsets.bind(consumer);
    let skipped = 0;
    consumer.commitOffsets = (positions) => (skipped++ === 0 ? Promise.resolve() : commit(positions));
    try {
      await intake.start();
      await sendPayments(producer, names, [payment('1'), payment('2'), payment('3')]);
      // A topic this fresh may answer NOT_LEADER_FOR_PARTITION while its leaders settle (kafkajs'
      // admin does not ask again): asked until it answers.
      const offsets = await eventually('the topic to tell its ends', () =>
        admin.fetchTopicOffsets(names.payments).catch(() => undefined),
      );
      const ends = new Map(offsets.map((p) => [p.partition, p.high] as const));
      // Nothing more arrives, so only a commit made again can move the skipped partitions on.
      await eventually(
        `every partition committed at its end within ${RECOMMIT_EVERY} commits`,
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [names.payments] });
          const at = new Map(committed!.partitions.map((p) => [p.partition, p.offset] as const));
          return [...ends].every(([partition, high]) => high === '0' || at.get(partition) === high) ? true : undefined;
        },
        15_000,
      );
      expect(skipped).toBeGreaterThan(1);
    } finally {
      await intake.stop();
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    }
  }, 60_000);
});
