import { migrateGatewayDb } from '../../gateway/db/migrate';
import pg from 'pg';
import { freshDatabase } from '../support/infra';

/**
 * Each payment's row is updated two or three times (CREATED, PROCESSING, its end). Those updates
 * stay HOT, in place and without new index entries, only while no index covers a column they
 * change, and while the row's page has room.
 */
describe('the payments table keeps status updates HOT', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('hot');
    await migrateGatewayDb(url);
  });

  it('has no index on a column a status update writes, not even in a partial index’s condition', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; definition: string }>(
        `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition
           FROM pg_index WHERE indrelid = 'gateway.payments'::regclass`,
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const { name, definition } of rows)
        expect({ name, written: definition.match(/\b(status|reason|status_seq|updated_at)\b/g) }).toEqual({
          name,
          written: null,
        });
      const options = await client.query<{ reloptions: string[] | null }>(
        `SELECT reloptions FROM pg_class WHERE oid = 'gateway.payments'::regclass`,
      );
      expect(options.rows[0]?.reloptions).toContain('fillfactor=80');
    } finally {
      await client.end();
    }
  });
});
