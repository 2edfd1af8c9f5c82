import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The bench scripts as a user runs them (`npm run bench -- …` runs the built file), before any system starts. */
const BENCHES = ['run', 'paymaster', 'kafka-clients'];
const run = (bench: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bench', `${bench}.js`), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });

test.each(BENCHES)('%s: --help prints the usage and exits 0', (bench) => {
  const r = run(bench, '--help');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^usage: npm run bench/);
});

test.each([
  ['run', '--rate', '100..300'],
  ['paymaster', '--payments', '1e5'],
  ['kafka-clients', '--batch', '-1'],
])('%s: a number option that is no number (%s %s) is one line and the usage, exit 2', (bench, option, value) => {
  const r = run(bench, `${option}=${value}`);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(
    new RegExp(`^${option} must be a non-negative number, not '${value.replace('.', '\\.')}'\nusage: npm run bench`),
  );
});

test.each(BENCHES)('%s: an unknown option is one line and the usage, exit 2, no stack trace', (bench) => {
  const r = run(bench, '--no-such-option');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^Unknown option '--no-such-option'\nusage: npm run bench/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
