import type { SQL } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Tracer } from '@opentelemetry/api';
import { tracePool } from './db-tracing';

/** Drizzle over a pool, the pool kept reachable for prepared statements (`runPrepared`). */
export type PooledDb<S extends Record<string, unknown>> = NodePgDatabase<S> & { $client: pg.Pool };

export interface Database<S extends Record<string, unknown>> {
  pool: pg.Pool;
  db: PooledDb<S>;
  close(): Promise<void>;
}

/**
 * Every statement is planned for its values and for its tables as they are at the call. Postgres
 * otherwise keeps a prepared statement's generic plan from its sixth run until the table is
 * analysed again: a plan made while a table held a few hundred rows read the whole table for
 * every batch once it held tens of thousands (measured in a benchmark two minutes old, which
 * autovacuum had not analysed: the status UPDATE at 3-4 ms a batch, the money-storage's look-up
 * of processed operations at 18 ms). Planning costs the busiest statements 0.1-0.3 ms a call,
 * about 0.05 cores at 600 payments a second; a whole-table read per batch cost several times that
 * and grows with the table. Test: batch-plans.test.
 */
const PLAN_CACHE_MODE = 'force_custom_plan';

/**
 * A transaction left idle this long is ended by the server, its row locks freed. The outbox
 * sweeper holds its claimed rows locked while it publishes them (the producer's own timeout: 10 s,
 * at most 50 s with PUBLISH_TIMEOUT_MS at its 10 s limit); a replica that froze or lost its
 * network there would otherwise keep them locked, and their payments NEW, until the server's TCP
 * keepalive noticed, about two hours by default.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * The connection settings with ours first. pg would put a URL's own `options` (`?options=-c …`)
 * in place of them, so those follow ours instead (and may override them).
 */
function withServiceSettings(url: string): { connectionString: string; options: string } {
  const setting = `-c plan_cache_mode=${PLAN_CACHE_MODE} -c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}`;
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const own = parsed?.searchParams.get('options');
  if (!parsed || !own) return { connectionString: url, options: setting };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options: `${setting} ${own}` };
}

/** `tracer`: record each query inside a traced request or message as a span (see tracePool). */
export function connectDatabase<S extends Record<string, unknown>>(
  url: string,
  schema: S,
  max = 10,
  tracer?: Tracer,
): Database<S> {
  const pool = new pg.Pool({
    ...withServiceSettings(url),
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
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

/** What a transaction's callback is handed: drizzle's transaction over the service's schema. */
export type Transaction<S extends Record<string, unknown>> = Parameters<
  Parameters<NodePgDatabase<S>['transaction']>[0]
>[0];

/**
 * A transaction on a pooled client of its own. Drizzle's `db.transaction` sends BEGIN before the
 * `try` whose `finally` releases the client: a connection cut at that moment kept the client
 * checked out for good, and the pool's `end()` (a clean stop) waited for it forever. Here the
 * client goes back in any case, and one whose transaction failed is discarded rather than reused
 * (it may be cut, or mid-protocol).
 */
export async function inTransaction<S extends Record<string, unknown>, T>(
  db: PooledDb<S>,
  schema: S,
  work: (tx: Transaction<S>) => Promise<T>,
): Promise<T> {
  const client = await db.$client.connect();
  let failure: Error | undefined;
  try {
    return await drizzle(client, { schema }).transaction(work);
  } catch (e) {
    failure = e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    client.release(failure);
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

const dialect = new PgDialect();

/**
 * Runs `query` as a named prepared statement: each pooled connection parses it once instead of on
 * every call, and plans it at each call (PLAN_CACHE_MODE). One `name` must always stand for the
 * same text, so the query may vary only in its parameters (a list is one array parameter, see
 * `pgArray`).
 */
export async function runPrepared<R extends Record<string, unknown>>(
  pool: Pick<pg.Pool, 'query'>,
  name: string,
  query: SQL,
): Promise<R[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  try {
    return (await pool.query<R>({ name, text, values: params })).rows;
  } catch (e) {
    // Wrapped as drizzle wraps its own: the pg error (its SQLSTATE, its message) stays the cause,
    // where the failure classifier and the duplicate checks look.
    throw new Error(`query ${name} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/*
 * BATCH_KEYS: a batch statement joins a table to `jsonb_to_recordset($1)`, which the planner takes
 * for 100 rows whatever the batch holds (usually one to a few). Against a young table (tens of
 * thousands of rows) it then plans a hash join over a sequential scan of the whole table, kept by
 * the prepared statement: every status update read every payment, a cost that grew with the table
 * (measured: 300 scans in 20 s, 462,000 rows read). The statements repeat the batch's keys as
 * `key = ANY($n)`, a list the planner counts at each call (PLAN_CACHE_MODE), so the table is read
 * through its index.
 */

/** A Postgres array literal of ids (numbers, uuids): one parameter for any length, whatever the count. */
export function pgArray(values: ReadonlyArray<string | number>): string {
  const items = values.map(String);
  if (items.some((v) => /["\\]/.test(v))) throw new Error('pgArray takes ids, not free text');
  // Quoted, so that even an id spelled NULL stays a value.
  return `{${items.map((v) => `"${v}"`).join(',')}}`;
}
