import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config';
import { PROJECT_ROOT } from './project-root';

const HOW_TO_SET = 'required: set it, or start with NODE_ENV=development or test to have a local secrets file created';

/** The secrets a service may need; none has a default, so none is ever committed. */
export const secretsShape = {
  /** HS256 key for user tokens. */
  JWT_SECRET: z.string({ error: HOW_TO_SET }).min(32, 'must be at least 32 characters'),
  /** Shared by the gateway and money-storage for their internal APIs (`x-service-token`). */
  INTERNAL_SERVICE_TOKEN: z.string({ error: HOW_TO_SET }).min(32, 'must be at least 32 characters'),
};

export type SecretName = keyof typeof secretsShape;
const SECRET_NAMES = Object.keys(secretsShape) as SecretName[];
const secretsFile = z.object(secretsShape);
export type Secrets = z.infer<typeof secretsFile>;

const DEFAULT_SECRETS_FILE = path.join(PROJECT_ROOT, '.secrets', 'local.json');

export const secretsFilePath = (env: NodeJS.ProcessEnv): string => env.SECRETS_FILE || DEFAULT_SECRETS_FILE;

/**
 * The environment, with each secret `shape` asks for and the environment lacks taken from the
 * secrets file (`SECRETS_FILE`, default `.secrets/local.json`). Only an explicit NODE_ENV of
 * development or test creates a missing file: an unset NODE_ENV is how production processes are
 * often started, and they must not quietly invent a secret that no other replica shares.
 * A secret still missing afterwards is reported by the shape's validation, next to every other problem.
 */
export function withSecrets(env: NodeJS.ProcessEnv, shape: object): NodeJS.ProcessEnv {
  const missing = SECRET_NAMES.filter((name) => name in shape && !env[name]);
  if (missing.length === 0) return env;
  const file = secretsFilePath(env);
  const mayCreate = env.NODE_ENV === 'development' || env.NODE_ENV === 'test';
  const stored = readSecretsFile(file) ?? (mayCreate ? createSecretsFile(file) : undefined);
  if (!stored) return env;
  return { ...env, ...Object.fromEntries(missing.map((name) => [name, stored[name]])) };
}

/** The file's secrets, or undefined when there is no file. */
export function readSecretsFile(file: string): Secrets | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([`SECRETS_FILE: cannot read ${file}: ${(e as Error).message}`]);
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigError([`SECRETS_FILE: ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`]);
  }
  const parsed = secretsFile.safeParse(parseJson(text));
  if (!parsed.success)
    throw new ConfigError([
      `SECRETS_FILE: ${file} does not hold ${SECRET_NAMES.join(' and ')}: ${parsed.error.message}`,
    ]);
  return parsed.data;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * Writes fresh random secrets unless the file exists, and returns what the file holds. Several
 * processes may start together: each writes a private temp file and links it into place, which
 * fails for all but the first; the losers read the winner's file, so everyone agrees.
 */
export function createSecretsFile(file: string): Secrets {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = Object.fromEntries(
    SECRET_NAMES.map((name) => [name, randomBytes(32).toString('base64url')]),
  ) as Secrets;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.unlinkSync(temp);
  }
  return readSecretsFile(file)!;
}
