import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN_TTL_SECONDS, isValidUserName, ROLES, signToken, type Role } from './auth';
import { loadTokenConfig, tokenPolicy } from './token-config';

/**
 * `npm run token -- <userName> [--role operator] [--ttl 1h]`: a token for local use, signed with
 * the configured secret (JWT_SECRET, else the local secrets file) and iss/aud when configured.
 */
const USAGE =
  "usage: npm run token -- <userName> [--role operator]... [--ttl <n>[s|m|h|d], default 1h or the role's longest]";
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

class UsageError extends Error {}

function parseTtl(text: string): number {
  const match = /^([1-9][0-9]*)([smhd]?)$/.exec(text);
  if (!match) throw new UsageError(`--ttl must look like 90s, 30m, 1h or 2d, not ${JSON.stringify(text)}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
}

function parseRoles(given: string[]): Role[] {
  const unknown = given.filter((r) => !ROLES.includes(r as Role));
  if (unknown.length > 0) throw new UsageError(`unknown role ${unknown.join(', ')}; known: ${ROLES.join(', ')}`);
  return given as Role[];
}

function main(argv: string[]): string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { role: { type: 'string', multiple: true }, ttl: { type: 'string' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const [userName, ...extra] = parsed.positionals;
  if (!userName || extra.length > 0) throw new UsageError('exactly one user name is needed');
  if (!isValidUserName(userName))
    throw new UsageError(`invalid user name ${JSON.stringify(userName)}: 1-64 of A-Z a-z 0-9 _ . @ -`);
  const roles = parseRoles(parsed.values.role ?? []);
  const config = loadTokenConfig();
  // An operator's token is held to its own lifetime, which an hour may exceed: the default shrinks to it.
  const longest = Math.min(
    config.JWT_MAX_TTL_SECONDS,
    roles.includes('operator') ? config.JWT_OPERATOR_MAX_TTL_SECONDS : config.JWT_MAX_TTL_SECONDS,
  );
  const ttl = parsed.values.ttl;
  const ttlSeconds = ttl === undefined ? Math.min(DEFAULT_TOKEN_TTL_SECONDS, longest) : parseTtl(ttl);
  if (ttlSeconds > config.JWT_MAX_TTL_SECONDS)
    throw new UsageError(`--ttl exceeds JWT_MAX_TTL_SECONDS (${config.JWT_MAX_TTL_SECONDS} s)`);
  if (roles.includes('operator') && ttlSeconds > config.JWT_OPERATOR_MAX_TTL_SECONDS)
    throw new UsageError(
      `--ttl exceeds JWT_OPERATOR_MAX_TTL_SECONDS (${config.JWT_OPERATOR_MAX_TTL_SECONDS} s) for an operator`,
    );
  return signToken(userName, tokenPolicy(config), { roles, ttlSeconds });
}

try {
  process.stdout.write(`${main(process.argv.slice(2))}\n`);
} catch (e) {
  // Whatever failed (arguments or configuration), the caller has to fix it: one code for scripts.
  const usage = e instanceof UsageError ? `\n${USAGE}` : '';
  process.stderr.write(`${(e as Error).message}${usage}\n`);
  process.exit(2);
}
