import { z } from 'zod';
import { CodedError } from './coded-error';

/** Raised at start-up when the environment does not describe a runnable service. */
export class ConfigError extends CodedError<'BAD_CONFIG'> {
  constructor(readonly problems: string[]) {
    super('BAD_CONFIG', `Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Validates `env` against `shape` once, at start-up. Every problem names the variable,
 * so an operator can fix them all in one go instead of one restart per typo.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return `${name}: ${issue.message} (${shownValue(name, env[name])})`;
  });
  throw new ConfigError(problems);
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PRIVATE_KEY/i;
/**
 * `scheme://user:password@` in any value, valid URL or not (an invalid one is why it is shown),
 * up to the last `@` (a generated password may hold `/` or `@`), and `password=` parameters.
 */
const URL_CREDENTIALS = /(\/\/)\S*@/g;
const PASSWORD_PARAMETER = /(password=)[^&\s]*/gi;

/**
 * What a problem shows of the value: enough to spot the typo, never a secret, because a
 * start-up error lands in stderr and from there in every log collector.
 */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'missing';
  if (SECRET_NAME.test(name)) return `got ${value.length} characters, not shown`;
  return `got ${JSON.stringify(value.replace(URL_CREDENTIALS, '$1***@').replace(PASSWORD_PARAMETER, '$1***'))}`;
}

/** Helpers for env values, which always arrive as strings. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  list: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1)),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/**
 * Where a service serves the API only other services may call: loopback by default, so a leaked
 * service token alone reaches nothing from outside the host. Bind it to a private interface when
 * the callers run elsewhere.
 */
export const internalListenerShape = (port: number) => ({
  INTERNAL_PORT: env.port(port),
  INTERNAL_HOST: z.string().min(1).default('127.0.0.1'),
});

/** Settings every service shares: where Kafka and Postgres are, how to log. */
export const commonShape = {
  /** Unset is production: a deploy that forgot it must not get development's conveniences. */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  LOG_LEVEL: env.logLevel(),
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  /** Lets several test suites share one broker without seeing each other's messages. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/)
    .default(''),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/payments'),
  /**
   * A consumer silent this long (no fetch, no heartbeat) is taken as stuck and the process exits.
   * Must exceed kafkajs' rebalance timeout (60 s): joining a group is silent while it waits.
   */
  KAFKA_CONSUMER_STALL_MS: env.int(90_000, 1000),
  /** How long a silent consumer keeps its partitions: also how long a crashed one's work waits for a new owner. */
  KAFKA_SESSION_TIMEOUT_MS: env.int(30_000, 6000),
  /**
   * How often a consumer that commits as it goes sends what it has finished (and once more when
   * it stops). A commit per batch was most of the broker's requests; what a crash replays instead
   * is at most this much work, which every consumer already handles idempotently.
   */
  KAFKA_COMMIT_INTERVAL_MS: env.int(1000, 10),
  /**
   * How far the heap may grow past what the last full garbage collection kept, in percent (see
   * heap-growth.ts): memory traded for more collecting; 0 (the default) leaves it to V8 (up to 300 %).
   */
  HEAP_GROWTH_PERCENT: env.int(0, 0, 300),
};
