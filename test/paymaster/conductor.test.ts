import type { MoneyOperation, OperationOutcome, OperationReason } from '../../common/kafka/contracts';
import type { Outgoing } from '../../common/kafka/client';
import type { Ticket } from '../../common/kafka/inflight-offsets';
import type { TopicKey } from '../../common/kafka/topics';
import { PaymentConductor, type Publisher } from '../../paymaster/src/payment-conductor';
import { eventually } from '../support/infra';
import { payment, quietLogger, resultFor } from './helpers';

interface Sent {
  topic: TopicKey;
  value: Outgoing<TopicKey>['value'];
  ack: () => void;
  fail: (e: Error) => void;
}

/** Holds every publish until the test acknowledges it, to order answers against acks at will. */
class HeldPublisher implements Publisher {
  readonly sent: Sent[] = [];

  publish<T extends TopicKey>(topic: T, outgoing: Outgoing<T>): Promise<void> {
    return new Promise((ack, fail) => this.sent.push({ topic, value: outgoing.value, ack, fail }));
  }

  commands(kind: MoneyOperation['kind']): Sent[] {
    return this.sent.filter((s) => s.topic === 'moneyOperations' && (s.value as MoneyOperation).kind === kind);
  }

  statuses(status: string): Sent[] {
    return this.sent.filter((s) => s.topic === 'statusPayments' && (s.value as { status: string }).status === status);
  }

  async status(status: string, nth = 0): Promise<Sent> {
    return eventually(`a ${status} status (#${nth})`, () => this.statuses(status)[nth]);
  }

  async command(kind: MoneyOperation['kind']): Promise<Sent> {
    return eventually(`a ${kind} command`, () => this.commands(kind)[0]);
  }
}

function rig(o: { delayMs: number; deadlineMs?: number; resendMs?: number }) {
  const publisher = new HeldPublisher();
  const conductor = new PaymentConductor({
    publisher,
    delays: () => o.delayMs,
    resultDeadlineMs: o.deadlineMs ?? 60_000,
    resendIntervalMs: o.resendMs ?? 60_000,
    logger: quietLogger(),
  });
  const p = payment('1');
  let finished = false;
  const ticket: Ticket = { topic: 'payments', partition: 0, offset: 0, done: () => (finished = true) };
  conductor.start(p, undefined, ticket);
  /** Without `settled`, as an older money-storage answers: an applied debit then needs a SETTLE. */
  const answer = (sent: Sent, outcome: OperationOutcome, reason: OperationReason | null = null, settled?: true): void =>
    conductor.onResult(resultFor(sent.value as MoneyOperation, { outcome, reason, settled }));
  /** The debit, sent with PROCESSING (not yet acknowledged), once PROCESSING is acknowledged. */
  const debitSent = async (): Promise<Sent> => {
    (await publisher.status('PROCESSING')).ack();
    return publisher.command('DEBIT');
  };
  return { publisher, conductor, answer, debitSent, finished: () => finished };
}

describe('PaymentConductor stage races (held acks, real timers)', () => {
  it('asks for the debit to be final, and on an answer that says it is completes after the delay with no settle', async () => {
    const r = rig({ delayMs: 300 });
    const debit = await r.debitSent();
    expect(debit.value).toMatchObject({ kind: 'DEBIT', settle: true });
    r.answer(debit, 'APPLIED', null, true); // before the debit's ack
    debit.ack();
    expect(r.publisher.statuses('COMPLETED')).toHaveLength(0); // the stage delay comes first
    (await r.publisher.status('COMPLETED')).ack();
    await eventually('the ticket to be done', () => (r.finished() ? true : undefined));
    expect(r.publisher.commands('SETTLE')).toHaveLength(0);
    expect(r.publisher.sent.map((s) => s.topic)).toEqual(['statusPayments', 'moneyOperations', 'statusPayments']);
  });

  it('settles a debit applied but not final (an older money-storage): takes a settle answer that beats its own ack, asks only once, completes after the delay', async () => {
    const r = rig({ delayMs: 400, resendMs: 100 });
    const debit = await r.debitSent();
    r.answer(debit, 'APPLIED'); // before the debit's ack
    debit.ack();
    const settle = await r.publisher.command('SETTLE');
    r.answer(settle, 'APPLIED');
    settle.ack();
    (await r.publisher.status('COMPLETED')).ack();
    await eventually('the ticket to be done', () => (r.finished() ? true : undefined));
    expect(r.publisher.commands('SETTLE')).toHaveLength(1);
    expect(r.conductor.size).toBe(0);
  });

  it('asks again while a settle stays unanswered, and ends ERROR when it lost to a compensation', async () => {
    const r = rig({ delayMs: 10, resendMs: 100 });
    const debit = await r.debitSent();
    debit.ack();
    r.answer(debit, 'APPLIED');
    (await r.publisher.command('SETTLE')).ack();
    const again = await eventually('the settle sent again', () => r.publisher.commands('SETTLE')[1]);
    r.answer(again, 'REJECTED', 'REVERSED');
    again.ack();
    expect((await r.publisher.status('ERROR')).value).toMatchObject({ status: 'ERROR', reason: 'REVERSED' });
  });

  it('on the deadline compensates, ignores the late debit answer, and publishes what the compensation decided', async () => {
    const r = rig({ delayMs: 10, deadlineMs: 50 });
    const debit = await r.debitSent();
    debit.ack();
    const credit = await r.publisher.command('CREDIT');
    r.answer(debit, 'APPLIED'); // too late: only the compensation's answer decides now
    r.answer(credit, 'REJECTED', 'SETTLED'); // before the compensation's ack
    credit.ack();
    expect((await r.publisher.status('COMPLETED')).value).toMatchObject({ status: 'COMPLETED', reason: null });
    expect(r.publisher.commands('SETTLE')).toHaveLength(0);
  });

  it('keeps waiting on a compensation answer that decides nothing', async () => {
    const r = rig({ delayMs: 10, deadlineMs: 50, resendMs: 100 });
    (await r.debitSent()).ack();
    const credit = await r.publisher.command('CREDIT');
    credit.ack();
    r.answer(credit, 'FAILED', 'INTERNAL_ERROR');
    const again = await eventually('the compensation sent again', () => r.publisher.commands('CREDIT')[1]);
    again.ack();
    r.answer(again, 'APPLIED');
    expect((await r.publisher.status('ERROR')).value).toMatchObject({ reason: 'MONEY_STORAGE_TIMEOUT' });
    expect(r.publisher.sent.filter((s) => s.topic === 'statusPayments')).toHaveLength(2);
  });

  it('holds the terminal status until PROCESSING is acknowledged, even when the debit was answered first', async () => {
    const r = rig({ delayMs: 50 });
    const processing = await r.publisher.status('PROCESSING');
    const debit = await r.publisher.command('DEBIT'); // out with PROCESSING, before its ack
    debit.ack();
    r.answer(debit, 'APPLIED', null, true);
    // Nothing observable marks the end of the 50-ms delay, so this waits six times it: a wait too
    // short could only let a bug pass, never fail a correct build.
    await new Promise((done) => setTimeout(done, 300));
    expect(r.publisher.statuses('COMPLETED')).toHaveLength(0);
    processing.ack();
    (await r.publisher.status('COMPLETED')).ack();
    await eventually('the ticket to be done', () => (r.finished() ? true : undefined));
  });

  it('starts a payment over when a stage fails, and finishes its ticket only with the terminal status', async () => {
    const r = rig({ delayMs: 10 });
    const debit = await r.debitSent();
    debit.ack();
    r.answer(debit, 'REJECTED', 'INSUFFICIENT_FUNDS');
    (await r.publisher.status('REJECTED')).fail(new Error('a bug in publishing'));
    // Conducted again from the start after a backoff, as a redelivery would be; money-storage answers repeats alike.
    (await r.publisher.status('PROCESSING', 1)).ack();
    const again = await eventually('the debit sent again', () => r.publisher.commands('DEBIT')[1]);
    again.ack();
    expect(r.finished()).toBe(false);
    r.answer(again, 'REJECTED', 'INSUFFICIENT_FUNDS');
    (await r.publisher.status('REJECTED', 1)).ack();
    await eventually('the ticket to be done', () => (r.finished() ? true : undefined));
    expect(r.conductor.stats()).toMatchObject({ inFlight: 0, completed: 1, abandoned: 0 });
  });
});
