import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { PROJECT_ROOT } from '../../common/project-root';
import { TokenVerifier } from '../../gateway/src/auth';
import { testSecrets } from '../support/secrets';

const execFileAsync = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'dist', 'gateway', 'src', 'token-cli.js');
const { JWT_SECRET } = testSecrets();
/** A clean environment: the work tree's secrets file is never read. */
const baseEnv = {
  PATH: process.env.PATH,
  SECRETS_FILE: path.join(os.tmpdir(), `no-secrets-${process.pid}`, 'local.json'),
};

async function token(
  args: string[],
  env: NodeJS.ProcessEnv = { JWT_SECRET },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [CLI, ...args], { env: { ...baseEnv, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('npm run token', () => {
  it('signs roles, a lifetime, and iss/aud when configured', async () => {
    const env = { JWT_SECRET, JWT_ISSUER: 'payments', JWT_AUDIENCE: 'gateway' };
    const { code, stdout } = await token(['alice', '--role', 'operator', '--ttl', '30m'], env);
    expect(code).toBe(0);
    const claims = jwt.decode(stdout.trim()) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'alice', roles: ['operator'], iss: 'payments', aud: 'gateway' });
    expect(claims.exp! - claims.iat!).toBe(1800);
    const verifier = new TokenVerifier({
      secret: JWT_SECRET,
      issuer: 'payments',
      audience: 'gateway',
      maxTtlSeconds: 3600,
      clockToleranceSeconds: 0,
    });
    expect(verifier.authenticate(`Bearer ${stdout.trim()}`)).toEqual({ userName: 'alice', roles: ['operator'] });
  });

  it('defaults an operator to its own longest lifetime when that is under an hour', async () => {
    const { stdout } = await token(['olga', '--role', 'operator'], { JWT_SECRET, JWT_OPERATOR_MAX_TTL_SECONDS: '900' });
    const claims = jwt.decode(stdout.trim()) as jwt.JwtPayload;
    expect(claims.exp! - claims.iat!).toBe(900);
    const capped = await token(['olga', '--role', 'operator'], { JWT_SECRET, JWT_MAX_TTL_SECONDS: '1800' });
    const cappedClaims = jwt.decode(capped.stdout.trim()) as jwt.JwtPayload;
    expect(cappedClaims.exp! - cappedClaims.iat!).toBe(1800);
  });

  it('defaults to no role and one hour', async () => {
    const claims = jwt.decode((await token(['bob'])).stdout.trim()) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'bob', roles: [] });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it.each<[string, string[], NodeJS.ProcessEnv | undefined, RegExp]>([
    ['no user', [], undefined, /exactly one user name/],
    ['two users', ['a', 'b'], undefined, /exactly one user name/],
    ['a bad user name', ['no spaces'], undefined, /invalid user name/],
    ['an unknown role', ['carl', '--role', 'admin'], undefined, /unknown role admin/],
    ['a bad ttl', ['carl', '--ttl', '5x'], undefined, /--ttl must look like/],
    [
      'a ttl over the cap',
      ['carl', '--ttl', '2h'],
      { JWT_SECRET, JWT_MAX_TTL_SECONDS: '3600' },
      /exceeds JWT_MAX_TTL_SECONDS/,
    ],
    [
      'an operator ttl over its own cap',
      ['olga', '--role', 'operator', '--ttl', '2h'],
      { JWT_SECRET },
      /exceeds JWT_OPERATOR_MAX_TTL_SECONDS \(3600 s\) for an operator/,
    ],
    ['an unknown flag', ['carl', '--admin'], undefined, /Unknown option/],
    ['no secret (NODE_ENV unset)', ['carl'], {}, /JWT_SECRET: required/],
  ])('exits 2 with a clear message on %s', async (_name, args, env, message) => {
    const result = await token(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('runs the compiled CLI without rebuilding when dist/ exists', async () => {
    const before = fs.statSync(CLI).mtimeMs;
    const { stdout } = await execFileAsync('npm', ['run', '--silent', 'token', '--', 'dana'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...baseEnv, JWT_SECRET },
    });
    expect(jwt.decode(stdout.trim())).toMatchObject({ sub: 'dana' });
    expect(fs.statSync(CLI).mtimeMs).toBe(before); // tsc would have rewritten it
  });
});
