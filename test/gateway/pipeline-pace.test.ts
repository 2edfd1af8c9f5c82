import { PipelinePace } from '../../gateway/src/pipeline-pace';

/** A pace on a clock the test moves by hand. */
function paceAt(floor: number): { pace: PipelinePace; at: (ms: number) => void } {
  let now = 1_000_000;
  return { pace: new PipelinePace(floor, 2, () => now), at: (ms) => void (now = 1_000_000 + ms) };
}

const acceptWhileRoom = (pace: PipelinePace): number => {
  let accepted = 0;
  while (!pace.full) {
    pace.noteAccepted();
    accepted += 1;
  }
  return accepted;
};

describe('PipelinePace', () => {
  it('lets an idle pipeline take only its floor in a second, then the next second again', () => {
    const { pace, at } = paceAt(100);
    expect(acceptWhileRoom(pace)).toBe(100);
    at(999);
    expect(pace.full).toBe(true);
    at(1000);
    expect(pace.full).toBe(false);
    expect(acceptWhileRoom(pace)).toBe(100);
  });

  it('grows to twice what the pipeline finished per second over the last five seconds', () => {
    const { pace, at } = paceAt(100);
    for (let s = 0; s < 5; s++) {
      at(s * 1000);
      for (let i = 0; i < 300; i++) pace.noteFinished();
    }
    at(5000);
    expect(pace.cap).toBe(600);
    expect(acceptWhileRoom(pace)).toBe(600);
  });

  it('forgets finished payments older than its window, and a long idle gap entirely', () => {
    const { pace, at } = paceAt(50);
    for (let i = 0; i < 1000; i++) pace.noteFinished();
    at(1000);
    expect(pace.cap).toBe(400); // 1000 over 5 s, doubled
    at(5000);
    expect(pace.cap).toBe(400);
    at(6000);
    expect(pace.cap).toBe(50);
    for (let i = 0; i < 1000; i++) pace.noteFinished();
    at(60_000);
    expect(pace.cap).toBe(50);
  });
});
