import { z } from 'zod';
import { commonShape, env, internalListenerShape, loadConfig } from '../../common/config';
import { secretsShape, withSecrets } from '../../common/secrets';

const moneyStorageShape = {
  ...commonShape,
  PORT: env.port(4002),
  /** The balances and ledger API the gateway reads, apart from the health port. */
  ...internalListenerShape(4004),
  INTERNAL_SERVICE_TOKEN: secretsShape.INTERNAL_SERVICE_TOKEN,
  MONEY_STORAGE_GROUP_ID: z.string().min(1).default('money-storage'),
  /** The gateway's internal listener (its INTERNAL_PORT), not the public one; several replicas' comma-separated, asked in turn. */
  GATEWAY_URL: env.list('http://127.0.0.1:4003').pipe(z.array(z.string().url())),
  /** Per attempt: a slow gateway must not stall a whole partition. */
  GATEWAY_TIMEOUT_MS: env.int(1000, 50),
  /**
   * Extra attempts after the first, with backoff (8: 8-16 s of waits in all). Long enough for a lone
   * gateway to restart (7 s after a SIGKILL in the faults suite), so a deploy does not fail every
   * debit in flight; bounded so that a real outage turns into FAILED, not a stuck consumer: even a
   * gateway that hangs every attempt (GATEWAY_TIMEOUT_MS) is given up on within 26 s, inside the
   * paymaster's deadline and the consumer's session (30 s each by default).
   */
  GATEWAY_RETRIES: env.int(8),
  GATEWAY_RETRY_BASE_MS: env.int(100, 1),
  /** How stale a user's ACTIVE/BLOCKED status may be; trades gateway load for blocking latency. */
  USER_CACHE_TTL_MS: env.int(5000),
  USER_CACHE_MAX_ENTRIES: env.int(100_000, 1),
  /** Off (0) in production: > 0 opens missing accounts with this balance, for local runs and demos. */
  MONEY_STORAGE_OPENING_BALANCE: env.int(0),
  DB_POOL_SIZE: env.int(16, 1),
  /** Partitions of money-operations handled at once by this process. */
  KAFKA_PARTITIONS_CONCURRENTLY: env.int(8, 1),
  /** Commands of one partition's batch in flight at once (distinct keys only: a key's commands stay in order). */
  OPERATION_CONCURRENCY: env.int(16, 1),
  /** Commands handled, published and committed as one unit; bounds re-work after a crash. */
  OPERATION_CHUNK_SIZE: env.int(500, 1),
};

export type MoneyStorageConfig = ReturnType<typeof loadMoneyStorageConfig>;
export const loadMoneyStorageConfig = (e: NodeJS.ProcessEnv = process.env) =>
  loadConfig(moneyStorageShape, withSecrets(e, moneyStorageShape));
