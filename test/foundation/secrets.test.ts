import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../../common/config';
import { PROJECT_ROOT } from '../../common/project-root';
import { createSecretsFile, readSecretsFile, secretsShape, withSecrets, type Secrets } from '../../common/secrets';

const run = promisify(execFile);
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-test-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const fileIn = (): string => path.join(dir, '.secrets', 'local.json');
const mode = (p: string): string => (fs.statSync(p).mode & 0o777).toString(8);
const stored = (file: string): Secrets => JSON.parse(fs.readFileSync(file, 'utf8')) as Secrets;

describe('secrets', () => {
  it('come from the environment first, the file filling only what the environment lacks', () => {
    const file = fileIn();
    const created = createSecretsFile(file);
    const env = withSecrets({ SECRETS_FILE: file, JWT_SECRET: 'j'.repeat(40) }, secretsShape);
    expect(env.JWT_SECRET).toBe('j'.repeat(40));
    expect(env.INTERNAL_SERVICE_TOKEN).toBe(created.INTERNAL_SERVICE_TOKEN);
  });

  it('leave the file alone when the environment has them all', () => {
    const file = fileIn();
    withSecrets(
      { NODE_ENV: 'test', SECRETS_FILE: file, JWT_SECRET: 'j'.repeat(40), INTERNAL_SERVICE_TOKEN: 'i'.repeat(40) },
      secretsShape,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  it('are created once, random, in a 0600 file in a 0700 folder, when NODE_ENV is development or test', () => {
    const file = fileIn();
    const first = withSecrets({ NODE_ENV: 'development', SECRETS_FILE: file }, secretsShape);
    expect(first.JWT_SECRET).toHaveLength(43);
    expect(first.INTERNAL_SERVICE_TOKEN).not.toBe(first.JWT_SECRET);
    expect(mode(file)).toBe('600');
    expect(mode(path.dirname(file))).toBe('700');
    const inode = fs.statSync(file).ino;
    const second = withSecrets({ NODE_ENV: 'test', SECRETS_FILE: file }, secretsShape);
    expect(second.JWT_SECRET).toBe(first.JWT_SECRET);
    expect(fs.statSync(file).ino).toBe(inode);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['local.json']); // no temp file left behind
  });

  it('are read from an existing file whatever NODE_ENV is, but never created outside development and test', () => {
    const file = fileIn();
    for (const NODE_ENV of [undefined, 'production']) {
      const env = withSecrets({ NODE_ENV, SECRETS_FILE: file }, secretsShape);
      expect(env.JWT_SECRET).toBeUndefined();
      expect(fs.existsSync(file)).toBe(false);
    }
    const created = createSecretsFile(file);
    expect(withSecrets({ NODE_ENV: 'production', SECRETS_FILE: file }, secretsShape).JWT_SECRET).toBe(
      created.JWT_SECRET,
    );
  });

  it('from a file that lost the race are the winner’s', () => {
    const file = fileIn();
    const winner = createSecretsFile(file);
    expect(createSecretsFile(file)).toEqual(winner);
    expect(stored(file)).toEqual(winner);
  });

  it('agree across processes that create the file at the same moment', async () => {
    const file = fileIn();
    const script = `const s = require(${JSON.stringify(path.join(PROJECT_ROOT, 'dist', 'common', 'secrets.js'))});
      process.stdout.write(JSON.stringify(s.withSecrets(process.env, s.secretsShape).JWT_SECRET));`;
    const env = { PATH: process.env.PATH, NODE_ENV: 'test', SECRETS_FILE: file };
    const outputs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['-e', script], { env })));
    const seen = new Set(outputs.map((o) => JSON.parse(o.stdout) as string));
    expect([...seen]).toEqual([stored(file).JWT_SECRET]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['local.json']);
  });

  it('refuse a file others can read, and a file without both secrets', () => {
    const file = fileIn();
    createSecretsFile(file);
    fs.chmodSync(file, 0o644);
    expect(() => readSecretsFile(file)).toThrow(/readable by others/);
    fs.writeFileSync(file, '{"JWT_SECRET": "short"}', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    expect(() => readSecretsFile(file)).toThrow(ConfigError);
  });
});
