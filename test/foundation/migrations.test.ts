import { GATEWAY_MIGRATIONS_FOLDER } from '../../gateway/src/app';
import { eq } from 'drizzle-orm';
import { applyMigrations, connectDatabase } from '../../common/db';
import { newPaymentId } from '../../common/ids';
import * as schema from '../../gateway/db/schema';
import { freshDatabase } from '../support/infra';

describe('committed SQL migrations on a real Postgres', () => {
  it('apply (twice, as replicas starting together would) and are read back through Drizzle', async () => {
    const url = await freshDatabase('migrations');
    const folder = GATEWAY_MIGRATIONS_FOLDER;
    await Promise.all([applyMigrations(url, folder, 'gateway'), applyMigrations(url, folder, 'gateway')]);
    const database = connectDatabase(url, schema);
    const { db } = database;
    try {
      const [user] = await db.insert(schema.users).values({ userName: 'alice' }).returning();
      expect(user).toMatchObject({ userName: 'alice', status: 'ACTIVE' });
      expect(user!.id).toMatch(/^[0-9]+$/);
      const id = newPaymentId();
      await db.insert(schema.payments).values({ id, userId: user!.id, amount: 100, currency: 'USD', status: 'NEW' });
      const [row] = await db.select().from(schema.payments).where(eq(schema.payments.id, id));
      expect(row).toMatchObject({ id, userId: user!.id, amount: 100, currency: 'USD', status: 'NEW', statusSeq: 0 });
    } finally {
      await database.close();
    }
  });
});
