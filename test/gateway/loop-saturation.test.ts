import { LoopSaturation } from '../../gateway/src/loop-saturation';
import { Admission, type AdmissionLimits } from '../../gateway/src/admission';
import { CALM } from './harness';
import { PipelinePace } from '../../gateway/src/pipeline-pace';

const NO_LIMITS: AdmissionLimits = {
  eventLoopDelayMs: 0,
  writeQueueWaitMs: 0,
  outboxBacklog: 0,
  paymentsBacklogSeconds: 0,
};

/** A saturation reading on a clock and a utilization the test sets by hand. */
function saturationAt(maxUtilization: number) {
  const state = { now: 1_000_000, utilization: 0.5 };
  const saturation = new LoopSaturation(
    maxUtilization,
    () => state.utilization,
    () => state.now,
  );
  /** A second in which `asked` payments asked to enter and `refused` of them were refused. */
  const second = (asked: number, refused: number): void => {
    for (let i = 0; i < asked; i++) saturation.noteAsked(i < refused);
    state.now += 1000;
  };
  return { saturation, state, second };
}

describe('the loop saturation reading', () => {
  it.each([
    ['busy while the second before refused a tenth', 0.97, 100, 10, 0.97],
    ['busy while the second before refused most', 0.99, 100, 90, 0.99],
    ['busy but refusing less than a tenth (a closed loop keeping up)', 0.99, 100, 9, undefined],
    ['busy with nothing asked for', 0.99, 0, 0, undefined],
    ['refusing most but not busy past the limit', 0.95, 100, 90, undefined],
  ])('%s', (_, utilization, asked, refused, expected) => {
    const { saturation, state, second } = saturationAt(0.95);
    second(asked, refused);
    state.utilization = utilization;
    expect(saturation.saturated).toBe(expected);
  });

  it('forgets the refusals of a second that is not the one just before', () => {
    const { saturation, state, second } = saturationAt(0.95);
    second(100, 100);
    state.now += 1000; // a second with nothing asked
    state.utilization = 1;
    expect(saturation.saturated).toBeUndefined();
  });

  it.each([0, 1])('never counts at a limit of %s', (limit) => {
    const { saturation, state, second } = saturationAt(limit);
    second(100, 100);
    state.utilization = 1;
    expect(saturation.saturated).toBeUndefined();
  });

  it('refuses through admission, without counting as pressure for the slow start, and lets payments in again once the loop has room', () => {
    const { saturation, state } = saturationAt(0.95);
    let now = state.now;
    const pace = new PipelinePace(1, 2, () => now);
    const notePressure = jest.spyOn(pace, 'notePressure');
    const refused: string[] = [];
    const admission = new Admission(
      () => CALM,
      NO_LIMITS,
      undefined,
      (o) => refused.push(o.signal),
      pace,
      saturation,
    );
    // A second in which the slow start refused most of what was asked.
    for (let i = 0; i < 20; i++) {
      try {
        admission.admit();
      } catch {
        // refused by the pace, as expected beyond its floor
      }
    }
    expect(refused.length).toBeGreaterThanOrEqual(2);
    state.now += 1000;
    now = state.now;
    state.utilization = 0.99;
    refused.length = 0;
    expect(() => admission.admit()).toThrow(/at capacity/);
    expect(refused).toEqual(['eventLoopUtilization']);
    expect(notePressure).not.toHaveBeenCalled();
    state.utilization = 0.6;
    expect(admission.overload()?.signal).not.toBe('eventLoopUtilization');
  });
});
