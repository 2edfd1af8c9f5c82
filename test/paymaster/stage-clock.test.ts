import type { Outgoing } from '../../common/kafka/client';
import type { Ticket } from '../../common/kafka/inflight-offsets';
import type { TopicKey } from '../../common/kafka/topics';
import { tickedDelays, uniformDelays } from '../../paymaster/src/delays';
import { PaymentConductor, type Publisher } from '../../paymaster/src/payment-conductor';
import { TickClock } from '../../paymaster/src/stage-clock';
import { payment, quietLogger } from './helpers';

/** Fake timers throughout: the clock's own `now` reads the faked Date, so every assertion is exact. */
beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

const fakeNow = (): number => Date.now();

describe('TickClock', () => {
  it('runs everything due within one tick together, on its boundary', () => {
    const clock = new TickClock(50, fakeNow);
    const ran: Array<[string, number]> = [];
    const note = (name: string) => () => void ran.push([name, Date.now()]);
    jest.advanceTimersByTime(7); // off a boundary
    clock.after(101, note('a')); // due at +108
    clock.after(130, note('b'));
    clock.after(143, note('c')); // due at +150, the boundary itself
    clock.after(144, note('d')); // the next tick
    jest.advanceTimersByTime(142);
    expect(ran).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(ran).toEqual([
      ['a', 1_000_150],
      ['b', 1_000_150],
      ['c', 1_000_150],
    ]);
    jest.advanceTimersByTime(50);
    expect(ran.at(-1)).toEqual(['d', 1_000_200]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never runs a callback early, nor more than one tick late', () => {
    const clock = new TickClock(50, fakeNow);
    const lateness: number[] = [];
    for (let i = 0; i < 500; i++) {
      jest.advanceTimersByTime(i % 13);
      const start = Date.now();
      const delay = (i * 37) % 400;
      clock.after(delay, () => void lateness.push(Date.now() - start - delay));
    }
    jest.advanceTimersByTime(1000);
    expect(lateness).toHaveLength(500);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(50);
  });

  it('skips what was cancelled, once per scheduling, and runs the rest of its tick', () => {
    const clock = new TickClock(50, fakeNow);
    let runs = 0;
    const count = (): void => void runs++;
    const cancel = clock.after(10, count);
    clock.after(10, count);
    clock.after(20, count);
    cancel();
    cancel();
    jest.advanceTimersByTime(50);
    expect(runs).toBe(2);
    const late = clock.after(10, count);
    jest.advanceTimersByTime(50);
    late(); // after it ran: nothing happens
    expect(runs).toBe(3);
  });

  it('runs the rest of a tick, and the ticks after it, when a callback throws; then throws its error', () => {
    const clock = new TickClock(50, fakeNow);
    const ran: string[] = [];
    clock.after(10, () => {
      throw new Error('a bug');
    });
    clock.after(20, () => void ran.push('same tick'));
    clock.after(60, () => void ran.push('next tick'));
    expect(() => jest.advanceTimersByTime(50)).toThrow('a bug');
    expect(ran).toEqual(['same tick']);
    jest.advanceTimersByTime(50);
    expect(ran).toEqual(['same tick', 'next tick']);
  });

  it('forgets a tick whose callbacks were all cancelled', () => {
    const clock = new TickClock(50, fakeNow);
    const cancels = [clock.after(30_000, () => undefined), clock.after(30_010, () => undefined)];
    for (const cancel of cancels) cancel();
    jest.advanceTimersByTime(30_050); // the armed timer wakes once, finds nothing, and is not armed again
    expect(jest.getTimerCount()).toBe(0);
  });

  it('runs what a callback schedules, also for a tick already due', () => {
    const clock = new TickClock(50, fakeNow);
    const ran: number[] = [];
    clock.after(10, () => {
      ran.push(Date.now());
      clock.after(0, () => void ran.push(Date.now()));
      clock.after(60, () => void ran.push(Date.now()));
    });
    jest.advanceTimersByTime(500);
    expect(ran).toEqual([1_000_050, 1_000_050, 1_000_150]);
  });

  it('leaves no timer once stopped, and runs nothing after', () => {
    const clock = new TickClock(50, fakeNow);
    let ran = false;
    clock.after(4000, () => (ran = true));
    clock.stop();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(5000);
    expect(ran).toBe(false);
  });

  it('leaves no timer when a callback stops it, though later ticks were pending', () => {
    const clock = new TickClock(50, fakeNow);
    let ran = false;
    clock.after(4000, () => (ran = true));
    clock.after(100, () => clock.stop());
    jest.advanceTimersByTime(100);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(5000);
    expect(ran).toBe(false);
  });

  it('refuses a tick that is not positive', () => {
    expect(() => new TickClock(0)).toThrow(RangeError);
    expect(() => new TickClock(Number.NaN)).toThrow(RangeError);
  });

  it('keeps a stage within its configured range: delays drawn a tick short, rounded up to the tick', () => {
    const delays = tickedDelays(500, 5000, 50);
    const drawn = Array.from({ length: 2000 }, delays);
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(4950);
    const clock = new TickClock(50, fakeNow);
    const waited: number[] = [];
    for (let i = 0; i < 300; i++) {
      const start = Date.now();
      // Both ends of the draw and random ones, from every phase of the tick.
      const delay = [500, 4950, delays()][i % 3]!;
      clock.after(delay, () => void waited.push(Date.now() - start));
      jest.advanceTimersByTime(1);
    }
    jest.advanceTimersByTime(6000);
    expect(waited).toHaveLength(300);
    expect(Math.min(...waited)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...waited)).toBeLessThanOrEqual(5000);
    // A range narrower than a tick is always its minimum, and the clock may then add up to a tick.
    expect(tickedDelays(0, 0, 50)()).toBe(0);
    expect(tickedDelays(100, 120, 50)()).toBe(100);
  });
});

describe('PaymentConductor on a TickClock', () => {
  /** Records when each message was published; the broker acknowledges it 5 ms later. */
  class TimedPublisher implements Publisher {
    readonly at: Array<{ topic: TopicKey; status?: string; at: number }> = [];

    publish<T extends TopicKey>(topic: T, outgoing: Outgoing<T>): Promise<void> {
      this.at.push({ topic, status: (outgoing.value as { status?: string }).status, at: Date.now() });
      return new Promise((acked) => setTimeout(acked, 5));
    }
  }

  it('publishes the PROCESSING and DEBIT of every payment whose delay ends in one tick at the same moment', async () => {
    const publisher = new TimedPublisher();
    const conductor = new PaymentConductor({
      publisher,
      delays: uniformDelays(500, 1000),
      clock: new TickClock(50, fakeNow),
      resultDeadlineMs: 60_000,
      resendIntervalMs: 60_000,
      logger: quietLogger(),
    });
    const ticket: Ticket = { topic: 'payments', partition: 0, offset: 0, done: () => undefined };
    // 200 payments taken over 400 ms: their delays end all over 1.1 s.
    for (let i = 0; i < 200; i++) {
      conductor.start(payment(String(i)), undefined, ticket);
      jest.advanceTimersByTime(2);
    }
    await jest.advanceTimersByTimeAsync(1500);
    const processing = publisher.at.filter((p) => p.status === 'PROCESSING');
    const debits = publisher.at.filter((p) => p.topic === 'moneyOperations');
    expect(processing).toHaveLength(200);
    expect(debits).toHaveLength(200);
    const moments = new Set(publisher.at.map((p) => p.at));
    // Delays end between +500 and +1,398 ms, rounded up to the boundaries +500 ... +1,400: 19 moments
    // at most, where per-payment timers would have published at ~200.
    expect([...moments].every((t) => t % 50 === 0)).toBe(true);
    expect(moments.size).toBeLessThanOrEqual(19);
    // Each payment's PROCESSING and its DEBIT are published in the same moment.
    expect(processing.map((p) => p.at)).toEqual(debits.map((p) => p.at));
  });
});
