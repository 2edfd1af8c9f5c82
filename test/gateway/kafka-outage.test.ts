import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '../../common/kafka/client';
import { startKafkaBroker, type Broker } from '../../infra/kafka-broker';
import { freePort } from '../../infra/free-port';
import { CreatePayment, GetPayment } from '../../client/operations';
import { eventually } from '../support/infra';
import { paymentRow, startTestGateway, type TestGateway } from './harness';

/**
 * A broker of its own, so it can be stopped without disturbing other suites: with Kafka down
 * createPayment still answers (NEW, within the publish bound), and the outbox delivers it later.
 */
describe('createPayment while Kafka is down', () => {
  let broker: Broker;
  let t: TestGateway;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-kafka-'));

  beforeAll(async () => {
    broker = await startKafkaBroker({ dataDir, port: await freePort(), heapMb: 384 });
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await ensureTopics(admin, 'outage.');
    await admin.disconnect();
    t = await startTestGateway('outage', {
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_TOPIC_PREFIX: 'outage.',
      PUBLISH_TIMEOUT_MS: '500',
      OUTBOX_RELAY_INTERVAL_MS: '200',
    });
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers NEW, then the same payment becomes CREATED and reaches `payments` once Kafka is back', async () => {
    const alice = t.client('alice');
    // Kafka works before the outage. The first send on a fresh producer (metadata, producer id) may
    // take longer than the 500 ms bound on a busy machine, so the answer may be NEW; the row must move on.
    const before = (await alice.data(CreatePayment, { input: { amount: 1, currency: 'USD' } })).createPayment;
    expect(['CREATED', 'NEW']).toContain(before.status);
    await eventually('the first payment CREATED', async () =>
      (await paymentRow(t, before.id))?.status === 'CREATED' ? true : undefined,
    );

    await broker.stop();
    const during = await alice.data(CreatePayment, { input: { amount: 4242, currency: 'EUR' } });
    expect(during.createPayment.status).toBe('NEW');
    expect(await paymentRow(t, during.createPayment.id)).toMatchObject({ status: 'NEW' });

    broker = await startKafkaBroker({ dataDir, port: broker.port, heapMb: 384 });
    await eventually(
      'the payment to become CREATED',
      async () => ((await paymentRow(t, during.createPayment.id))?.status === 'CREATED' ? true : undefined),
      90_000,
    );
    expect((await alice.data(GetPayment, { id: during.createPayment.id })).payment).toMatchObject({
      id: during.createPayment.id,
      amount: 4242,
    });

    const consumer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({
      groupId: 'outage-check',
    });
    const keys: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'outage.payments', fromBeginning: true });
    await consumer.run({ eachMessage: ({ message }) => Promise.resolve(void keys.push(String(message.key))) });
    try {
      await eventually(
        'the payment in `payments`',
        () => (keys.includes(during.createPayment.id) ? true : undefined),
        30_000,
      );
    } finally {
      await consumer.disconnect();
    }
  }, 180_000);
});
