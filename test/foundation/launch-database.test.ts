import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_DATABASE, loadLaunchConfig } from '../../infra/launch-config';
import { startInfra } from '../../infra/infrastructure';
import { databaseOf, withDatabase } from '../../infra/postgres';
import { kafkaBrokers, uniqueName } from '../support/infra';

/** `DATABASE_URL=postgres://…/mydb npm start` runs in `mydb`, not in a `payments` database beside it. */
describe('the database npm start uses', () => {
  it('is the one the URL names', () => {
    expect(databaseOf('postgres://u:p@db.example.com:5432/mydb')).toBe('mydb');
    expect(databaseOf('postgres://u:p@db.example.com/my%2Ddb?sslmode=require')).toBe('my-db');
    expect(databaseOf('postgres://u:p@db.example.com:5432')).toBeUndefined();
    expect(databaseOf('postgres://u:p@db.example.com:5432/')).toBeUndefined();
  });

  it("comes from the launcher environment: DATABASE_URL's database, else payments", () => {
    expect(loadLaunchConfig({ DATABASE_URL: 'postgres://u:p@db.example.com:5432/mydb' }).database).toBe('mydb');
    expect(loadLaunchConfig({ DATABASE_URL: 'postgres://u:p@db.example.com:5432' }).database).toBe(DEFAULT_DATABASE);
    expect(loadLaunchConfig({}).database).toBe(DEFAULT_DATABASE);
  });

  it('is created if missing, under its own (even mixed-case) name, and handed to the services', async () => {
    const serverUrl = process.env.TEST_DATABASE_SERVER_URL!;
    const name = uniqueName('Launch-Db');
    const launch = loadLaunchConfig({
      DATABASE_URL: withDatabase(serverUrl, name),
      KAFKA_BROKERS: kafkaBrokers().join(','),
    });
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-db-'));
    const infra = await startInfra({
      dataRoot,
      kafkaBrokers: launch.KAFKA_BROKERS,
      databaseUrl: launch.DATABASE_URL,
      database: launch.database,
      topicPrefix: `${uniqueName('launch')}.`,
    });
    try {
      expect(infra.databaseUrl).toBe(launch.DATABASE_URL);
      const client = new pg.Client({ connectionString: infra.databaseUrl });
      await client.connect();
      const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
      await client.end();
      expect(rows[0]?.name).toBe(name);
    } finally {
      await infra.stop();
      fs.rmSync(dataRoot, { recursive: true, force: true });
    }
  });
});
