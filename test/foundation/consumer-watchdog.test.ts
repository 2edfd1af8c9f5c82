import { KafkaJSNonRetriableError } from 'kafkajs';
import { createKafka } from '../../common/kafka/client';
import { watchConsumer, type StallHandler } from '../../common/kafka/consumer-watchdog';
import { createLogger } from '../../common/logger';
import { eventually, freshTopics, kafkaBrokers, testKafka, uniqueName } from '../support/infra';

/**
 * kafkajs stops a crashed consumer (STOP, DISCONNECT) before it emits CRASH: the watchdog must
 * still see a crash it will not restart from, and stay quiet when a service stops its consumer itself.
 */
describe('the consumer watchdog', () => {
  const logger = createLogger('test', 'silent');
  const stalls: string[] = [];
  const onStall: StallHandler = (name, reason) => void stalls.push(`${name}: ${reason}`);

  async function watchedConsumer(label: string, eachMessage: () => Promise<void>) {
    const { names } = await freshTopics(label);
    const consumer = createKafka({ brokers: kafkaBrokers(), clientId: label, logger }).consumer({
      groupId: uniqueName(label),
    });
    watchConsumer(consumer, label, 60_000, logger, onStall);
    await consumer.connect();
    await consumer.subscribe({ topic: names.payments, fromBeginning: true });
    await consumer.run({ eachMessage });
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({ topic: names.payments, messages: [{ key: 'k', value: 'v' }] });
    await producer.disconnect();
    return consumer;
  }

  it('reports a consumer that crashed for good, though kafkajs disconnected it first', async () => {
    const consumer = await watchedConsumer('crashing', () =>
      Promise.reject(new KafkaJSNonRetriableError('the coordinator is not aware of this member')),
    );
    try {
      await eventually(
        'the crash reported',
        () => (stalls.some((s) => s.startsWith('crashing: crashed without restart')) ? true : undefined),
        30_000,
      );
    } finally {
      await consumer.disconnect();
    }
  });

  it('stays quiet when the service disconnects its consumer itself', async () => {
    let consumed = false;
    const consumer = await watchedConsumer('stopping', () => Promise.resolve(void (consumed = true)));
    await eventually('the message consumed', () => (consumed ? true : undefined), 30_000);
    const before = stalls.length;
    await consumer.disconnect();
    expect(stalls.slice(before)).toEqual([]);
  });
});
