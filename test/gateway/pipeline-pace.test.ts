import { PipelinePace } from '../../gateway/src/pipeline-pace';

interface Clocked {
  pace: PipelinePace;
  at: (ms: number) => void;
}

/** A pace on a clock the test moves by hand. */
function paceAt(floor: number): Clocked {
  let now = 1_000_000;
  return { pace: new PipelinePace(floor, 2, () => now), at: (ms) => void (now = 1_000_000 + ms) };
}

/** In each whole second from `from` to before `to`, `finished` payments finish and `accepted` are let in. */
function eachSecond({ pace, at }: Clocked, from: number, to: number, finished: number, accepted = 0): void {
  for (let s = from; s < to; s++) {
    at(s * 1000);
    for (let i = 0; i < finished; i++) pace.noteFinished();
    for (let i = 0; i < accepted; i++) pace.noteAccepted();
  }
}

/** A pace with floor 100 after five seconds of `finished` payments finishing and `accepted` let in each second. */
function afterFiveSeconds(finished: number, accepted: number): Clocked {
  const clocked = paceAt(100);
  eachSecond(clocked, 0, 5, finished, accepted);
  clocked.at(5000);
  return clocked;
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
    const { pace } = afterFiveSeconds(300, 600);
    expect(pace.cap).toBe(600);
    expect(acceptWhileRoom(pace)).toBe(600);
  });

  it('grows by a fifth, not twofold, for five seconds after a sign of capacity', () => {
    const clocked = afterFiveSeconds(500, 1000);
    const { pace, at } = clocked;
    expect(pace.cap).toBe(1000);
    pace.notePressure();
    expect(pace.cap).toBe(600);
    expect(acceptWhileRoom(pace)).toBe(600);
    eachSecond(clocked, 5, 10, 500, 1000);
    at(10_000); // five seconds after the pressure, 500/s finished meanwhile
    expect(pace.cap).toBe(600);
    eachSecond(clocked, 10, 11, 0, 1000);
    at(11_000);
    expect(pace.cap).toBe(800); // five whole seconds without pressure: doubling again (400/s in the window)
  });

  it('grows at most by a fifth a second over what it let in the second before, past the pace it has shown', () => {
    const { pace, at } = afterFiveSeconds(300, 300);
    expect(pace.cap).toBe(360); // not 600: twice the finished pace
    expect(acceptWhileRoom(pace)).toBe(360);
    at(6000);
    expect(pace.cap).toBe(432);
  });

  it('grows at most by a fifth a second over the second before when pressed', () => {
    const { pace, at } = afterFiveSeconds(1000, 100);
    pace.notePressure();
    expect(pace.cap).toBe(120); // not 1,200: a fifth over the finished pace, five seconds late
    expect(acceptWhileRoom(pace)).toBe(120);
    at(6000);
    expect(pace.cap).toBe(144);
  });

  it('doubles a second on the way back to the pace it has shown, and stops there', () => {
    const clocked = afterFiveSeconds(1000, 100);
    const caps: number[] = [];
    for (let s = 5; s < 10; s++) {
      clocked.at(s * 1000);
      caps.push(acceptWhileRoom(clocked.pace)); // nothing finishes: the pipeline is still busy with them
    }
    // Twice the second before, up to the 1,000/s shown; beyond it only twice the finished pace,
    // which has faded from the window, would allow more.
    expect(caps).toEqual([200, 400, 800, 1000, 1000]);
  });

  it('after a quiet spell climbs back, twice as many a second, to the best pace it finished lately, unless pressed', () => {
    const climb = (clocked: Clocked, from: number, seconds: number): number[] => {
      const caps: number[] = [];
      for (let s = from; s < from + seconds; s++) {
        clocked.at(s * 1000);
        caps.push(acceptWhileRoom(clocked.pace)); // nothing finishes: the pipeline is still busy with them
      }
      return caps;
    };
    const quiet = afterFiveSeconds(300, 300);
    expect(climb(quiet, 65, 5)).toEqual([100, 200, 300, 300, 300]);
    const pressed = afterFiveSeconds(300, 300);
    pressed.pace.notePressure();
    expect(climb(pressed, 65, 3)).toEqual([100, 100, 100]);
    const forgotten = afterFiveSeconds(300, 300);
    expect(climb(forgotten, 400, 3)).toEqual([100, 100, 100]);
  });

  it('forgets finished payments older than its window, and a long idle gap entirely', () => {
    const clocked = paceAt(50);
    const { pace, at } = clocked;
    eachSecond(clocked, 0, 1, 1000, 1000);
    at(1000);
    expect(pace.cap).toBe(400); // 1000 over 5 s, doubled
    eachSecond(clocked, 1, 5, 0, 1000);
    at(5000);
    expect(pace.cap).toBe(400);
    at(6000);
    expect(pace.cap).toBe(50);
    for (let i = 0; i < 1000; i++) pace.noteFinished();
    at(60_000);
    expect(pace.cap).toBe(50);
  });
});
