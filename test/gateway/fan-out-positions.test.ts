import type { Producer } from 'kafkajs';
import { createKafka, toKafkaMessage } from '../../common/kafka/client';
import type { PaymentStatusChanged } from '../../common/kafka/contracts';
import { consumerContext } from '../../common/kafka/group-consumer';
import { statusChangedMessage } from '../../common/kafka/messages';
import type { TopicNames } from '../../common/kafka/topics';
import { asUserId, newPaymentId } from '../../common/ids';
import type { Stoppable } from '../../common/lifecycle';
import { createLogger } from '../../common/logger';
import type { PaymentStatus } from '../../common/payment-status';
import { FanOutPositions } from '../../gateway/src/fan-out-positions';
import { startStatusBroadcast } from '../../gateway/src/status-consumers';
import { StatusHub } from '../../gateway/src/status-hub';
import { eventually, freshTopics, kafkaBrokers } from '../support/infra';

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
let producer: Producer;
const running: Stoppable[] = [];
beforeAll(async () => {
  ({ names } = await freshTopics('fan_out_positions'));
  producer = kafka.producer();
  await producer.connect();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
afterAll(async () => {
  await producer?.disconnect();
});

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

async function startFanOut(hub: StatusHub, positions: FanOutPositions): Promise<Stoppable> {
  const fanOut = await startStatusBroadcast(ctx, { names, hub, positions });
  running.push(fanOut);
  return fanOut;
}

const heardAll = (heard: PaymentStatusChanged[], ids: string[]) =>
  eventually(`the fan-out to hear ${ids.length} events`, () =>
    ids.every((id) => heard.some((e) => e.paymentId === id)) ? true : undefined,
  );

it('hears what was produced after the gateway began and before its fan-out joined, not what came before', async () => {
  const since = Date.now();
  const [old] = await send([{ status: 'CREATED', partition: 0, timestamp: since - 60_000 }]);
  const early = await send([
    { status: 'CREATED', partition: 0 },
    { status: 'COMPLETED', partition: 3 },
  ]);
  const { hub, heard } = recordingHub();
  await startFanOut(hub, new FanOutPositions(since));
  const late = await send([{ status: 'PROCESSING', partition: 5 }]);

  await heardAll(heard, [...early, ...late]);
  expect(heard.some((e) => e.paymentId === old)).toBe(false);
  expect(hub.latest(early[1]!)?.status).toBe('COMPLETED');
});

it('started again, resumes where it stopped: nothing produced in between is missed, nothing is heard twice', async () => {
  const { hub, heard } = recordingHub();
  const positions = new FanOutPositions(Date.now());
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
  const ids = heard.map((e) => e.paymentId);
  expect(new Set(ids).size).toBe(ids.length);
});
