import { InflightOffsets } from '../../common/kafka/inflight-offsets';
import { ConfigError } from '../../common/config';
import { uniformDelays } from '../../paymaster/src/delays';
import { readableIds } from '../../paymaster/src/invalid-payment';
import { compensationOutcome, debitVerdict, settleOutcome } from '../../paymaster/src/messages';
import { compensationCommand, settleCommand, statusChangedMessage } from '../../common/kafka/messages';
import { loadPaymasterConfig } from '../../paymaster/src/config';
import type { OperationOutcome, OperationReason } from '../../common/kafka/contracts';
import { payment, resultFor } from './helpers';

describe('InflightOffsets', () => {
  it('commits only up to the oldest unfinished offset, whatever order they finish in', () => {
    const tracker = new InflightOffsets();
    const t = [10, 11, 12, 13].map((o) => tracker.start('p', 0, String(o))!);
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '10' }]);
    t[2]!.done();
    t[1]!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '10' }]);
    t[0]!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '13' }]);
    t[3]!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '14' }]);
    expect(tracker.unfinished()).toBe(0);
  });

  it('keeps partitions apart and tolerates gaps between offsets', () => {
    const tracker = new InflightOffsets();
    const a = tracker.start('p', 0, 5)!;
    const b = tracker.start('p', 1, 100)!;
    const c = tracker.start('p', 1, 107)!;
    c.done();
    b.done();
    expect(tracker.toCommit()).toEqual([
      { topic: 'p', partition: 0, offset: '5' },
      { topic: 'p', partition: 1, offset: '108' },
    ]);
    a.done();
    expect(tracker.toCommit()).toContainEqual({ topic: 'p', partition: 0, offset: '6' });
  });

  it('reports only positions that moved since the last commit', () => {
    const tracker = new InflightOffsets();
    tracker.start('p', 0, 0)!.done();
    const first = tracker.toCommit();
    tracker.markCommitted(first);
    expect(tracker.toCommit()).toEqual([]);
    tracker.start('p', 0, 1)!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '2' }]);
  });

  it('offers every position again once told its commits may not have been made', () => {
    const tracker = new InflightOffsets();
    tracker.start('p', 0, 0)!.done();
    tracker.start('p', 1, 4);
    tracker.markCommitted(tracker.toCommit());
    expect(tracker.toCommit()).toEqual([]);
    tracker.forgetCommitted();
    expect(tracker.toCommit()).toEqual([
      { topic: 'p', partition: 0, offset: '1' },
      { topic: 'p', partition: 1, offset: '4' },
    ]);
  });

  it('starts a partition over when it goes back below where its tracking began (a batch from before a rebalance began it)', () => {
    const tracker = new InflightOffsets();
    const stale = tracker.start('p', 0, 8)!;
    const again = [7, 8].map((o) => tracker.start('p', 0, o)); // the group's committed offset is 7
    expect(again.every((t) => t !== null)).toBe(true); // 7 was never started here: it must not be skipped
    stale.done(); // a ticket of the abandoned tracking moves nothing
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '7' }]);
    again.forEach((t) => t!.done());
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '9' }]);
  });

  it('skips a redelivered offset it still tracks, and a done() twice changes nothing', () => {
    const tracker = new InflightOffsets();
    const t = tracker.start('p', 0, 3)!;
    expect(tracker.start('p', 0, 3)).toBeNull();
    t.done();
    t.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '4' }]);
  });

  it('forgets dropped partitions: their late tickets are no-ops and a re-assignment starts fresh', () => {
    const tracker = new InflightOffsets();
    const lost = tracker.start('p', 0, 50)!;
    tracker.start('p', 1, 7);
    expect(tracker.retain((_t, partition) => partition === 1)).toEqual([{ topic: 'p', partition: 0 }]);
    lost.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 1, offset: '7' }]);
    expect(tracker.start('p', 0, 40)).not.toBeNull();
  });

  it('stays correct over many out-of-order finishes (compaction)', () => {
    const tracker = new InflightOffsets();
    const tickets = Array.from({ length: 10_000 }, (_, i) => tracker.start('p', 0, i)!);
    for (let i = tickets.length - 1; i >= 1; i--) tickets[i]!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '0' }]);
    tickets[0]!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '10000' }]);
    for (let i = 10_000; i < 12_000; i++) tracker.start('p', 0, i)!.done();
    expect(tracker.toCommit()).toEqual([{ topic: 'p', partition: 0, offset: '12000' }]);
  });
});

describe('paymaster building blocks', () => {
  it('draws delays uniformly within the bounds, both ends included', () => {
    expect(uniformDelays(500, 5000, () => 0)()).toBe(500);
    expect(uniformDelays(500, 5000, () => 0.999999999)()).toBe(5000);
    const d = uniformDelays(1, 3);
    for (let i = 0; i < 1000; i++) expect([1, 2, 3]).toContain(d());
  });

  it('refuses a delay range upside down', () => {
    expect(() => loadPaymasterConfig({ PAYMASTER_DELAY_MIN_MS: '10', PAYMASTER_DELAY_MAX_MS: '5' })).toThrow(
      ConfigError,
    );
    expect(loadPaymasterConfig({}).PAYMASTER_RESULT_DEADLINE_MS).toBe(30_000);
  });

  it('derives seq from the status rank, so a redelivery repeats the same seq', () => {
    const p = payment('7');
    expect(statusChangedMessage(p, 'PROCESSING', null).seq).toBe(2);
    expect(statusChangedMessage(p, 'COMPLETED', null).seq).toBe(3);
    expect(statusChangedMessage(p, 'ERROR', 'X').seq).toBe(3);
  });

  it('maps money-storage answers to terminal statuses: an applied debit must be settled first', () => {
    const p = payment('7');
    const answer = (outcome: OperationOutcome, reason: OperationReason | null) =>
      resultFor(compensationCommand(p), { outcome, reason });
    expect(debitVerdict(answer('APPLIED', null))).toEqual({ next: 'settle' });
    expect(debitVerdict(answer('REJECTED', 'INSUFFICIENT_FUNDS'))).toEqual({
      next: 'finish',
      outcome: { status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' },
    });
    expect(debitVerdict(answer('FAILED', 'REVERSED'))).toEqual({
      next: 'finish',
      outcome: { status: 'ERROR', reason: 'REVERSED' },
    });
    expect(settleOutcome(answer('APPLIED', null))).toEqual({ status: 'COMPLETED', reason: null });
    expect(settleOutcome(answer('REJECTED', 'REVERSED'))).toEqual({ status: 'ERROR', reason: 'REVERSED' });
    expect(compensationOutcome(answer('APPLIED', null))).toEqual({ status: 'ERROR', reason: 'MONEY_STORAGE_TIMEOUT' });
    expect(compensationOutcome(answer('REJECTED', 'NOTHING_TO_REVERSE'))).toEqual({
      status: 'ERROR',
      reason: 'MONEY_STORAGE_TIMEOUT',
    });
    expect(compensationOutcome(answer('REJECTED', 'SETTLED'))).toEqual({ status: 'COMPLETED', reason: null });
  });

  it('builds the compensation and the settle against the debit they decide on', () => {
    const p = payment('7', 250);
    expect(compensationCommand(p)).toMatchObject({
      kind: 'CREDIT',
      purpose: 'COMPENSATION',
      operationId: `${p.paymentId}:reversal`,
      reverses: p.paymentId,
      amount: 250,
    });
    expect(settleCommand(p)).toMatchObject({
      kind: 'SETTLE',
      operationId: `${p.paymentId}:settle`,
      settles: p.paymentId,
      paymentId: p.paymentId,
      userId: '7',
    });
  });

  it('reads ids from an invalid payment only when they are trustworthy', () => {
    const id = payment('1').paymentId;
    expect(readableIds(Buffer.from(JSON.stringify({ paymentId: id, userId: '12', amount: -1 })))).toEqual({
      paymentId: id,
      userId: '12',
    });
    expect(readableIds(Buffer.from(JSON.stringify({ paymentId: id, userId: 'abc' })))).toBeNull();
    expect(readableIds(Buffer.from('{{'))).toBeNull();
    expect(readableIds(null)).toBeNull();
  });
});
