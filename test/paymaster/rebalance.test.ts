import { collect, eventually, freshTopics } from '../support/infra';
import type { Paymaster } from '../../paymaster/src/paymaster';
import {
  payment,
  paymasterEnv,
  sendPayments,
  startInProcess,
  startResponder,
  statuses,
  terminals,
  testProducer,
} from './helpers';

describe('paymaster group rebalance', () => {
  it('drops the work of partitions that move to a new member, which redoes it; every payment still ends once', async () => {
    const { prefix, names } = await freshTopics('rebalance');
    const collector = await collect([names.statusPayments]);
    const responder = await startResponder(names, () => ({ outcome: 'APPLIED', reason: null }));
    const producer = await testProducer();
    const env = paymasterEnv(prefix, { PAYMASTER_DELAY_MIN_MS: '2000', PAYMASTER_DELAY_MAX_MS: '4000' });
    const running: Paymaster[] = [];
    try {
      const first = await startInProcess(env);
      running.push(first);
      const payments = Array.from({ length: 800 }, () => payment('1'));
      await sendPayments(producer, names, payments);
      const done = () => terminals(statuses(collector.messages, names.statusPayments));
      await eventually('the first member to hold payments', () => (first.stats().inFlight >= 200 ? true : undefined));

      const second = await startInProcess(env);
      running.push(second);
      await eventually(
        'the first member to give up the partitions it lost',
        () => (first.stats().abandoned > 0 ? true : undefined),
        30_000,
      );
      await eventually(
        'every payment to reach a terminal status',
        () => (done().size === payments.length ? true : undefined),
        45_000,
      );

      expect(second.stats().completed).toBeGreaterThan(0);
      for (const [id, ends] of done()) expect({ id, ends: new Set(ends).size }).toEqual({ id, ends: 1 });
    } finally {
      await Promise.all(running.map((p) => p.stop()));
      await Promise.all([responder.stop(), collector.stop(), producer.disconnect()]);
    }
  }, 90_000);
});
