import { createKafka, createProducer, groupSession, toKafkaMessage } from '../../common/kafka/client';
import type { PaymentStatusChanged } from '../../common/kafka/contracts';
import { consumerContext, type GroupConsumer } from '../../common/kafka/group-consumer';
import { statusChangedMessage } from '../../common/kafka/messages';
import type { TopicNames } from '../../common/kafka/topics';
import { asUserId, newPaymentId } from '../../common/ids';
import type { Stoppable } from '../../common/lifecycle';
import { createLogger } from '../../common/logger';
import type { PaymentStatus } from '../../common/payment-status';
import { FanOutPositions } from '../../gateway/src/fan-out-positions';
import { startStatusBroadcast } from '../../gateway/src/status-consumers';
import { StatusHub } from '../../gateway/src/status-hub';
import { withTimeout } from '../../common/with-timeout';
import { eventually, freshTopics, kafkaBrokers, uniqueName } from '../support/infra';

/**
 * The fan-out's group never commits, so without its own positions every join would start it at
 * the log's end and a subscriber would never hear of what was produced while it was away (its
 * first start after the gateway began serving, kafkajs' restarts, a new Kafka-side attempt).
 */
const logger = createLogger('test', 'silent');
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'fan-out-positions-test', logger });
const ctx = consumerContext(
  kafka,
  { KAFKA_CONSUMER_STALL_MS: 60_000, KAFKA_SESSION_TIMEOUT_MS: 10_000, KAFKA_COMMIT_INTERVAL_MS: 1000 },
  logger,
);
const userId = asUserId('1');

let names: TopicNames;
/** The status writer's group: tests commit for it by hand. */
let writerGroupId: string;
// Idempotent: a plain producer retrying a send half refused (a new topic's leaders settling)
// writes the accepted half twice, and the fan-out would rightly hear it twice.
const producer = createProducer(kafka);
const running: Stoppable[] = [];
beforeAll(() => producer.connect());
beforeEach(async () => {
  ({ names } = await freshTopics('fan_out_positions'));
  writerGroupId = uniqueName('writer');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
afterAll(() => producer.disconnect());

/** A hub that records every event handed to it. */
function recordingHub(): { hub: StatusHub; heard: PaymentStatusChanged[] } {
  const hub = new StatusHub();
  const heard: PaymentStatusChanged[] = [];
  const publish = hub.publish.bind(hub);
  hub.publish = (event) => {
    heard.push(event);
    publish(event);
  };
  return { hub, heard };
}

async function send(events: Array<{ status: PaymentStatus; partition: number; timestamp?: number }>) {
  const sent = events.map(({ status, partition, timestamp }) => {
    const event = statusChangedMessage({ paymentId: newPaymentId(), userId }, status, null);
    const message = toKafkaMessage('statusPayments', { key: event.paymentId, value: event });
    return { event, message: { ...message, partition, timestamp: timestamp?.toString() } };
  });
  await producer.send({ topic: names.statusPayments, acks: -1, messages: sent.map((s) => s.message) });
  return sent.map((s) => s.event.paymentId);
}

const positionsSince = (since: number) => new FanOutPositions(since, writerGroupId);

async function startFanOut(hub: StatusHub, positions: FanOutPositions): Promise<GroupConsumer> {
  const fanOut = (await startStatusBroadcast(ctx, { names, hub, positions })) as GroupConsumer;
  running.push(fanOut);
  return fanOut;
}

const heardAll = (heard: PaymentStatusChanged[], ids: string[]) =>
  eventually(`the fan-out to hear ${ids.length} events`, () =>
    ids.every((id) => heard.some((e) => e.paymentId === id)) ? true : undefined,
  );

const heardOnce = (heard: PaymentStatusChanged[]) => {
  const ids = heard.map((e) => e.paymentId);
  expect(new Set(ids).size).toBe(ids.length);
};

it('hears what was produced after the gateway began and before its fan-out joined, not what came before', async () => {
  const since = Date.now();
  const [old] = await send([{ status: 'CREATED', partition: 0, timestamp: since - 60_000 }]);
  const early = await send([
    { status: 'CREATED', partition: 0 },
    { status: 'COMPLETED', partition: 3 },
  ]);
  const { hub, heard } = recordingHub();
  await startFanOut(hub, positionsSince(since));
  const late = await send([{ status: 'PROCESSING', partition: 5 }]);

  await heardAll(heard, [...early, ...late]);
  expect(heard.some((e) => e.paymentId === old)).toBe(false);
  expect(hub.latest(early[1]!)?.status).toBe('COMPLETED');
  heardOnce(heard);
});

it('hears, from before the gateway began, what the status writer has not committed: the database may not show it yet', async () => {
  const long = Date.now() - 60_000;
  const [written, unwritten] = await send([
    { status: 'PROCESSING', partition: 2, timestamp: long },
    { status: 'COMPLETED', partition: 2, timestamp: long },
  ]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // The writer applied the first (offset 0) and committed up to the second.
    await admin.setOffsets({
      groupId: writerGroupId,
      topic: names.statusPayments,
      partitions: [{ partition: 2, offset: '1' }],
    });
  } finally {
    await admin.disconnect();
  }
  const { hub, heard } = recordingHub();
  await startFanOut(hub, positionsSince(Date.now()));

  await heardAll(heard, [unwritten!]);
  expect(heard.some((e) => e.paymentId === written)).toBe(false);
});

it('started again, resumes where it stopped: nothing produced in between is missed, nothing is heard twice', async () => {
  const { hub, heard } = recordingHub();
  const positions = positionsSince(Date.now());
  const first = await startFanOut(hub, positions);
  const before = await send([
    { status: 'CREATED', partition: 1 },
    { status: 'PROCESSING', partition: 2 },
  ]);
  await heardAll(heard, before);
  await first.stop();

  const between = await send([
    { status: 'COMPLETED', partition: 1 },
    { status: 'REJECTED', partition: 2 },
    { status: 'ERROR', partition: 4 },
  ]);
  await startFanOut(hub, positions);
  const after = await send([{ status: 'CREATED', partition: 1 }]);

  await heardAll(heard, [...between, ...after]);
  heardOnce(heard);
});

it('hears what was produced on partitions a rebalance took away, once they are back', async () => {
  const { hub, heard } = recordingHub();
  const fanOut = await startFanOut(hub, positionsSince(Date.now()));
  const { groupId } = await fanOut.consumer.describeGroup();
  // A second member of the fan-out's group takes some partitions, and commits nothing of what it reads.
  const intruder = kafka.consumer({ groupId, ...groupSession(10_000) });
  const taken = new Promise<number[]>((resolve) =>
    intruder.on(intruder.events.GROUP_JOIN, ({ payload }) => {
      const partitions = payload.memberAssignment[names.statusPayments] ?? [];
      if (partitions.length > 0) resolve(partitions);
    }),
  );
  await intruder.connect();
  await intruder.subscribe({ topic: names.statusPayments });
  await intruder.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: () => Promise.resolve() });
  const intruderHolds = await withTimeout(taken, 30_000, 'the rebalance');

  const meanwhile = await send(
    Array.from({ length: 8 }, (_, partition) => ({ status: 'PROCESSING' as const, partition })),
  );
  await intruder.disconnect();

  await heardAll(heard, meanwhile);
  expect(intruderHolds.length).toBeGreaterThan(0);
});

it('reads past hostile messages on a partition and hears the good ones after them, started again too', async () => {
  const { hub, heard } = recordingHub();
  const positions = positionsSince(Date.now());
  const first = await startFanOut(hub, positions);
  const hostile: Array<Buffer | string | null> = [
    null, // a tombstone
    Buffer.from([0x00, 0x07, 0x1b, 0xff, 0xfe]), // control characters and bytes that are not UTF-8
    '{"version":1,"type":"PAYMENT_STATUS_CHANGED","paymentId":"\ud800","status":"COMPLETED"}', // a lone surrogate
    JSON.stringify({ padding: 'x'.repeat(900_000) }), // near the broker's 1 MB limit
    '{"version":1,"type":"PAYMENT_STATUS_CHANGED","seq":1e400', // cut short, with a huge number
  ];
  await producer.send({
    topic: names.statusPayments,
    acks: -1,
    messages: hostile.map((value, i) => ({ key: `hostile-${i}`, value, partition: 6 })),
  });
  const [afterHostile] = await send([{ status: 'COMPLETED', partition: 6 }]);
  await heardAll(heard, [afterHostile!]);
  await first.stop();

  const [afterRestart] = await send([{ status: 'REJECTED', partition: 6 }]);
  await startFanOut(hub, positions);
  await heardAll(heard, [afterRestart!]);
  expect(heard.map((e) => e.paymentId)).toEqual([afterHostile, afterRestart]);
});
