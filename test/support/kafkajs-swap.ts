import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { RecordFields } from '../../common/kafka/record-encoder';

export interface KafkajsSwap {
  /** This project's module (its path from the project root, without extension) and the installer it exports. */
  ours: string;
  install: string;
  /** The kafkajs module replaced, the one that loads it, and one that loads that one in turn. */
  replaced: string;
  loadedBy: string;
  loadedEarlierBy: string;
}

const ROOT = path.resolve(__dirname, '../..');

/** Runs `script` in a fresh Node process in the project root: what it printed, parsed. */
function inFreshProcess(script: string): unknown {
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: ROOT });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as unknown;
}

/**
 * In fresh processes, since a swap is once per process: installed before kafkajs loads the module,
 * it is what kafkajs loads (and installing again is a no-op); installed after, it does nothing.
 */
export function expectSwapsOnlyInTime(s: KafkajsSwap): void {
  const ours = JSON.stringify(path.join(ROOT, s.ours));
  const replaced = JSON.stringify(s.replaced);
  expect(
    inFreshProcess(`
      const ours = require(${ours});
      const before = require(${replaced});
      const installed = ours.${s.install}();
      const loaded = require(${replaced});
      require(${JSON.stringify(s.loadedBy)});
      console.log(JSON.stringify({ installed, replaced: loaded !== before, again: ours.${s.install}() }));`),
  ).toEqual({ installed: true, replaced: true, again: true });
  expect(
    inFreshProcess(`
      require(${JSON.stringify(s.loadedEarlierBy)});
      console.log(JSON.stringify(require(${ours}).${s.install}()));`),
  ).toBe(false);
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A record as this project sends one (a payment id key, a JSON value, two headers), with `over` changed. */
export const message = (over: Partial<RecordFields>): RecordFields => ({
  offsetDelta: 3,
  timestampDelta: 12,
  key: '3f1c2a4e-9b7d-4c1e-8f2a-6d5b4c3a2e1f',
  value: Buffer.from('{"version":1,"status":"PROCESSING"}'),
  headers: { 'event-id': 'e1b6c2d0-7f3a-4b8e-9c1d-2a3b4c5d6e7f', traceparent: TRACEPARENT },
  ...over,
});
