import { eq } from 'drizzle-orm';
import { connectDatabase } from '../../common/db';
import { migrateGatewayDb } from '../../gateway/db/migrate';
import { newPaymentId } from '../../common/ids';
import * as schema from '../../gateway/db/schema';
import { freshDatabase } from '../support/infra';

describe('committed SQL migrations on a real Postgres', () => {
  it('apply (twice, as replicas starting together would) and are read back through Drizzle', async () => {
    const url = await freshDatabase('migrations');
    await Promise.all([migrateGatewayDb(url), migrateGatewayDb(url)]);
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
