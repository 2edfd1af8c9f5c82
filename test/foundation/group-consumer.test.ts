import { createKafka, createProducer, publish } from '../../common/kafka/client';
import { GroupConsumer } from '../../common/kafka/group-consumer';
import { statusChangedMessage } from '../../common/kafka/messages';
import { asPaymentId, asUserId, newPaymentId } from '../../common/ids';
import { createLogger } from '../../common/logger';
import { withTimeout } from '../../common/with-timeout';
import { freshTopics, kafkaBrokers, uniqueName } from '../support/infra';

const logger = createLogger('test', 'silent');
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'group-consumer-test', logger });

describe('GroupConsumer', () => {
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
});
