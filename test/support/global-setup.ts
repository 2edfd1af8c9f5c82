import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startInfra, type Infra } from '../../infra/infrastructure';

declare global {
  var __PAYMENTS_INFRA__: { infra: Infra; dataRoot: string } | undefined;
}

/**
 * One real Kafka broker and one real Postgres for the whole run: the ones the environment names
 * (KAFKA_BROKERS, DATABASE_URL), or embedded ones started here. Suites isolate themselves with
 * their own topic prefix and database.
 */
export default async function globalSetup(): Promise<void> {
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'payments-test-'));
  fs.chmodSync(dataRoot, 0o755); // the embedded Postgres runs as another user when we are root
  const infra = await startInfra({
    dataRoot,
    kafkaBrokers: process.env.KAFKA_BROKERS,
    databaseUrl: process.env.DATABASE_URL,
  });
  process.env.TEST_KAFKA_BROKERS = infra.kafkaBrokers;
  process.env.TEST_DATABASE_SERVER_URL = infra.databaseUrl;
  globalThis.__PAYMENTS_INFRA__ = { infra, dataRoot };
}
