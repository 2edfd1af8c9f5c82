import { freePort } from '../../infra/free-port';
import { spawnService, waitReady, type ServiceProcess } from '../../infra/stack';
import { collect, eventually, freshTopics } from '../support/infra';
import {
  payment,
  paymasterEnv,
  sendPayments,
  startResponder,
  statuses,
  terminals,
  testProducer,
  type StatusSeen,
} from './helpers';

/**
 * The paymaster as a real process, killed or stopped mid-flight: whatever it held must be redone
 * by the next process of the group, and no payment may end with two different terminal statuses.
 */
async function spawnPaymaster(env: Record<string, string>, lines: string[]): Promise<ServiceProcess> {
  const service = spawnService('paymaster', await freePort(), env, (_name, line) => lines.push(line));
  await waitReady(service, 30_000);
  return service;
}

function expectConsistentLives(seen: StatusSeen[], paymentIds: string[]): void {
  const lives = new Map<string, StatusSeen[]>();
  for (const s of seen) lives.set(s.paymentId, [...(lives.get(s.paymentId) ?? []), s]);
  for (const id of paymentIds) {
    const life = lives.get(id) ?? [];
    expect(life[0]?.status).toBe('PROCESSING');
    const ends = new Set(life.filter((s) => s.seq === 3).map((s) => s.status));
    expect(ends.size).toBe(1);
  }
}

async function scenario(label: string, stopFirst: (first: ServiceProcess) => Promise<void>): Promise<void> {
  const { prefix, names } = await freshTopics(label);
  const collector = await collect([names.statusPayments]);
  const responder = await startResponder(names, (op) =>
    op.userId === '2' ? { outcome: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' } : { outcome: 'APPLIED', reason: null },
  );
  const producer = await testProducer();
  const env = paymasterEnv(prefix, {
    PAYMASTER_DELAY_MIN_MS: '200',
    PAYMASTER_DELAY_MAX_MS: '2000',
    LOG_LEVEL: 'info',
  });
  const lines: string[] = [];
  const started: ServiceProcess[] = [];
  try {
    started.push(await spawnPaymaster(env, lines));
    const payments = Array.from({ length: 400 }, (_, i) => payment(String((i % 2) + 1)));
    await sendPayments(producer, names, payments);
    const done = () => terminals(statuses(collector.messages, names.statusPayments)).size;
    await eventually('the first terminal statuses', () => (done() >= 20 ? true : undefined), 30_000);

    await stopFirst(started[0]!);
    expect(done()).toBeLessThan(payments.length);

    started.push(await spawnPaymaster(env, lines));
    await eventually(
      'every payment to reach a terminal status after the restart',
      () => (done() === payments.length ? true : undefined),
      60_000,
    );
    expectConsistentLives(
      statuses(collector.messages, names.statusPayments),
      payments.map((p) => p.paymentId),
    );
  } catch (e) {
    process.stderr.write(`paymaster output:\n${lines.slice(-40).join('\n')}\n`);
    throw e;
  } finally {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all([responder.stop(), collector.stop(), producer.disconnect()]);
  }
}

describe('paymaster process lifecycle', () => {
  it('loses nothing when SIGKILLed mid-flight and restarted', async () => {
    await scenario('sigkill', async (first) => {
      first.child.kill('SIGKILL');
      await first.exited;
    });
  }, 120_000);

  it('on SIGTERM hands its unfinished payments back and exits cleanly within the grace', async () => {
    await scenario('sigterm', async (first) => {
      const t0 = Date.now();
      first.child.kill('SIGTERM');
      const code = await first.exited;
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });
  }, 120_000);
});
