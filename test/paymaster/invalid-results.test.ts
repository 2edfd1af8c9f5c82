import { toKafkaMessage } from '../../common/kafka/client';
import { TOPICS, dlqOf, groupName } from '../../common/kafka/topics';
import type { Paymaster } from '../../paymaster/src/paymaster';
import { awaitCommittedToEnd, collect, eventually, freshTopics, testKafka } from '../support/infra';
import { payment, paymasterEnv, startInProcess, startResponder, statuses, terminals, testProducer } from './helpers';

const PARTITIONS = TOPICS.payments.partitions;

describe('invalid results on money-operation-results', () => {
  it('are parked exactly once although every paymaster process reads them all', async () => {
    const { prefix, names } = await freshTopics('invalid_results');
    const collector = await collect([names.statusPayments]);
    const responder = await startResponder(names, () => ({ outcome: 'APPLIED', reason: null }));
    const producer = await testProducer();
    const admin = testKafka().admin();
    await admin.connect();
    const env = paymasterEnv(prefix);
    const group = groupName(prefix, env.PAYMASTER_GROUP_ID!);
    const running: Paymaster[] = [];
    try {
      running.push(await startInProcess(env), await startInProcess(env));
      await eventually(
        'two members sharing the payments partitions',
        async () => {
          const [described] = (await admin.describeGroups([group])).groups;
          return described?.state === 'Stable' && described.members.length === 2 ? true : undefined;
        },
        30_000,
      );
      // A payment on every partition completes only once its owner took it: both know their partitions.
      const payments = Array.from({ length: PARTITIONS }, () => payment('1'));
      await producer.send({
        topic: names.payments,
        acks: -1,
        messages: payments.map((p, partition) => ({
          ...toKafkaMessage('payments', { key: p.paymentId, value: p }),
          partition,
        })),
      });
      await eventually(
        'a payment done on every partition',
        () => (terminals(statuses(collector.messages, names.statusPayments)).size === PARTITIONS ? true : undefined),
        30_000,
      );

      const poison = Array.from({ length: PARTITIONS }, (_, partition) => ({
        key: 'poison',
        value: 'not json',
        partition,
      }));
      await producer.send({ topic: names.moneyOperationResults, acks: -1, messages: poison });
      // Each process's listener commits after its batch (DLQ send included): once both are at the end, every park is done.
      const listeners = (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((id) => id.startsWith(`${group}-results-`));
      expect(listeners).toHaveLength(2);
      for (const listener of listeners) await awaitCommittedToEnd(listener, names.moneyOperationResults);
      const [dlqEnd] = await admin.fetchTopicOffsets(dlqOf(names.moneyOperationResults));
      expect(dlqEnd!.high).toBe(String(PARTITIONS));
    } finally {
      await Promise.all(running.map((p) => p.stop()));
      await Promise.all([responder.stop(), collector.stop(), producer.disconnect(), admin.disconnect()]);
    }
  }, 90_000);
});
