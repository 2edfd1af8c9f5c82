import path from 'node:path';
import { z } from 'zod';
import { env, loadConfig } from '../common/config';
import { PROJECT_ROOT } from '../common/project-root';
import { databaseOf } from './postgres';

/** Where `npm start` keeps its data when DATABASE_URL names no database (and on the embedded server). */
export const DEFAULT_DATABASE = 'payments';

/** `npm start`'s own settings, validated once; the services read theirs themselves. */
export function loadLaunchConfig(e: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(
    {
      KAFKA_BROKERS: z.string().optional(),
      DATABASE_URL: z.string().url().optional(),
      KAFKA_PORT: env.port(9092),
      POSTGRES_PORT: env.port(5433),
      GATEWAY_PORT: env.port(4000),
      GATEWAY_INTERNAL_PORT: env.port(4003),
      MONEY_STORAGE_INTERNAL_PORT: env.port(4004),
      PAYMASTER_PORT: env.port(4001),
      MONEY_STORAGE_PORT: env.port(4002),
      DATA_DIR: z.string().default(path.join(PROJECT_ROOT, '.data')),
    },
    e,
  );
  // The database DATABASE_URL names is the one the services use (created if missing), never another on the same server.
  const database = (config.DATABASE_URL && databaseOf(config.DATABASE_URL)) || DEFAULT_DATABASE;
  return { ...config, database };
}
