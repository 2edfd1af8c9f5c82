import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from '../common/config';
import { PROJECT_ROOT } from '../common/project-root';
import { databaseOf } from './postgres';

/** Where `npm start` keeps its data when DATABASE_URL names no database (and on the embedded server). */
export const DEFAULT_DATABASE = 'payments';

/**
 * `npm start -- --brokers N --replicas N`: Kafka nodes (each adds 1 to KAFKA_PORT) and processes of
 * every service (each adds 10 to the service's ports). More than 8 replicas would idle: every topic has 8 partitions.
 */
const flagsShape = { '--brokers': env.int(1, 1, 9), '--replicas': env.int(1, 1, 8) };

function loadLaunchFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { brokers: { type: 'string' }, replicas: { type: 'string' } },
    strict: true,
  });
  const flags = loadConfig(flagsShape, { '--brokers': values.brokers, '--replicas': values.replicas });
  return { brokers: flags['--brokers'], replicas: flags['--replicas'] };
}

/** `npm start`'s own settings and flags, validated once; the services read theirs themselves. */
export function loadLaunchConfig(e: NodeJS.ProcessEnv = process.env, argv: string[] = []) {
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
  const flags = loadLaunchFlags(argv);
  if (config.KAFKA_BROKERS && flags.brokers > 1)
    throw new ConfigError(['--brokers: sizes the embedded Kafka, but KAFKA_BROKERS names an external one']);
  // The database DATABASE_URL names is the one the services use (created if missing), never another on the same server.
  const database = (config.DATABASE_URL && databaseOf(config.DATABASE_URL)) || DEFAULT_DATABASE;
  return { ...config, ...flags, database };
}
