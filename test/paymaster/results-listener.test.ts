import { ignoreStall } from '../../common/kafka/consumer-watchdog';
import { debitCommand } from '../../common/kafka/messages';
import { publish } from '../../common/kafka/client';
import type { MoneyOperationResult } from '../../common/kafka/contracts';
import { TOPICS } from '../../common/kafka/topics';
import { ResultsListener } from '../../paymaster/src/results-listener';
import { eventually, freshTopics, testKafka } from '../support/infra';
import { restartableCrash } from '../support/kafka-crash';
import { payment, quietLogger, resultFor, testProducer } from './helpers';

describe('the results listener', () => {
  it('begins where every partition ended, commits it, and after a restart kafkajs makes resumes there: no answer is skipped', async () => {
    const { names } = await freshTopics('results_listener');
    const kafka = testKafka();
    const admin = kafka.admin();
    const producer = await testProducer();
    await admin.connect();
    // An earlier process's answer: before this listener's starting point, never read by it.
    const earlier = resultFor(debitCommand(payment('1')), { outcome: 'APPLIED', reason: null });
    await publish(producer, names, 'moneyOperationResults', [{ key: earlier.paymentId!, value: earlier }]);

    const awaited = payment('1');
    const answers: MoneyOperationResult[] = [];
    let crashed = false;
    const listener = new ResultsListener({
      consumers: { kafka, stallMs: 60_000, commitIntervalMs: 200, onStall: ignoreStall, logger: quietLogger() },
      names,
      groupId: 'results-listener-test',
      holds: (id) => id === awaited.paymentId || id === earlier.paymentId,
      onResult: (result) => {
        if (!crashed) {
          crashed = true;
          throw restartableCrash();
        }
        answers.push(result);
      },
      ownsPartition: () => false,
      producer,
      logger: quietLogger(),
      admin,
    });
    try {
      await listener.start();
      // Committed where it begins, for the lag metric, though nothing was read yet.
      const topic = names.moneyOperationResults;
      const [ends, [committed]] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: listener.groupId, topics: [topic] }),
      ]);
      expect(ends).toHaveLength(TOPICS.moneyOperationResults.partitions);
      expect(new Map(committed!.partitions.map((p) => [p.partition, p.offset]))).toEqual(
        new Map(ends.map((e) => [e.partition, e.offset])),
      );
      // Its first delivery crashes the consumer before anything of that partition is handled, and
      // kafkajs joins again with a new member, which would begin at the end without a position.
      const answer = resultFor(debitCommand(awaited), { outcome: 'APPLIED', reason: null });
      await publish(producer, names, 'moneyOperationResults', [{ key: awaited.paymentId, value: answer }]);
      await eventually(
        'the answer, read again after the restart',
        () => (answers.length > 0 ? true : undefined),
        30_000,
      );
      expect(crashed).toBe(true);
      expect(answers).toEqual([answer]);
    } finally {
      await listener.stop();
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    }
  }, 60_000);
});
