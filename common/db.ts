import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Tracer } from '@opentelemetry/api';
import { tracePool } from './db-tracing';

export interface Database<S extends Record<string, unknown>> {
  pool: pg.Pool;
  db: NodePgDatabase<S>;
  close(): Promise<void>;
}

/** `tracer`: record each query inside a traced request or message as a span (see tracePool). */
export function connectDatabase<S extends Record<string, unknown>>(
  url: string,
  schema: S,
  max = 10,
  tracer?: Tracer,
): Database<S> {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  if (tracer) tracePool(pool, tracer);
  // An idle client losing its connection (a Postgres restart) must not crash the process.
  pool.on('error', () => undefined);
  // Nor a client in use (a transaction open when the server goes away): its query fails and is
  // handled where it was awaited, but the client also emits 'error', fatal without a listener.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, db: drizzle(pool, { schema }), close: () => pool.end() };
}

/**
 * Applies the committed SQL migrations of one service. Several replicas may start at once,
 * so the run is serialised by an advisory lock held on the same connection that migrates. One
 * lock for every service: their journals share the `drizzle` schema, and two services creating it
 * at once on a fresh database collide in pg_namespace.
 */
const MIGRATIONS_LOCK = 'migrations';

export async function applyMigrations(url: string, migrationsFolder: string, schemaName: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATIONS_LOCK]);
    // The service's own schema is created by its first migration, so the journal lives apart from it.
    await migrate(drizzle(client), {
      migrationsFolder,
      migrationsSchema: 'drizzle',
      migrationsTable: `${schemaName}_migrations`,
    });
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATIONS_LOCK]).catch(() => undefined);
    await client.end();
  }
}

export async function isDatabaseReachable(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
