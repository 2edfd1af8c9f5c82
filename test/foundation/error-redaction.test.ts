import type { DestinationStream } from 'pino';
import { connectDatabase } from '../../common/db';
import { classifyFailure, describeFailure } from '../../common/failure-class';
import { createKafka } from '../../common/kafka/client';
import { createLogger } from '../../common/logger';
import { freePort } from '../../infra/free-port';
import { migrateGatewayDb } from '../../gateway/db/migrate';
import * as schema from '../../gateway/db/schema';
import { eq } from 'drizzle-orm';
import { freshDatabase } from '../support/infra';

/** What a logger writes, line by line. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  return { logger: createLogger('test', 'info', destination), text: () => lines.join('') };
}

const failureOf = async (work: () => Promise<unknown>): Promise<unknown> => {
  try {
    await work();
  } catch (e) {
    return e;
  }
  throw new Error('expected the statement to fail');
};

describe('errors from Postgres, as logs and DLQ headers show them (real Postgres)', () => {
  it('keep the SQL, the SQLSTATE and the constraint, not the values of the row (a unique violation)', async () => {
    const url = await freshDatabase('redaction');
    await migrateGatewayDb(url);
    const database = connectDatabase(url, schema);
    try {
      const secret = 'alice-private-name-7731';
      await database.db.insert(schema.users).values({ userName: secret });
      const e = await failureOf(() => database.db.insert(schema.users).values({ userName: secret }));
      expect(String((e as Error).message)).toContain(secret); // what drizzle and pg hand over
      const { logger, text } = capturedLogger();
      logger.error({ err: e }, 'write failed');
      logger.error(e as Error);
      expect(text()).not.toContain(secret);
      expect(text()).toContain('Failed query: insert into');
      expect(text()).toContain('duplicate key value violates unique constraint \\"users_user_name_unique\\"');
      expect(describeFailure(e)).not.toContain(secret);
      expect(describeFailure(e)).toMatch(/^23505: duplicate key value/);

      // A prepared statement's error comes from pg itself, its detail quoting the row.
      const direct = await failureOf(() =>
        database.pool.query('insert into gateway.users (user_name) values ($1)', [secret]),
      );
      expect((direct as { detail?: string }).detail).toContain(secret);
      logger.error({ err: direct }, 'prepared write failed');
      expect(text()).not.toContain(secret);
      expect(text()).toContain('"code":"23505"');
    } finally {
      await database.close();
    }
  });

  it('keep the cause of a refused connection, and its class, without the parameters', async () => {
    const closed = `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`;
    const database = connectDatabase(closed, schema);
    try {
      const secret = 'bob-idempotency-key-5519';
      const e = await failureOf(() => database.db.select().from(schema.users).where(eq(schema.users.userName, secret)));
      const { logger, text } = capturedLogger();
      logger.warn({ err: e }, 'read failed');
      expect(text()).not.toContain(secret);
      expect(text()).toContain('ECONNREFUSED');
      expect(text()).toContain('Failed query: select');
      expect(classifyFailure(e)).toBe('transient'); // classified on the error itself, not the copy
      expect(describeFailure(e)).not.toContain(secret);
    } finally {
      await database.close();
    }
  });

  it('reach into an AggregateError, never throw inside the logger, and cover what kafkajs logs', () => {
    const secret = 'carol-row-value-8802';
    const pgError = () => Object.assign(new Error('duplicate key'), { code: '23505', detail: `Key (x)=(${secret})` });
    const { logger, text } = capturedLogger();
    logger.error({ err: new AggregateError([pgError()], 'both failed') }, 'aggregate');
    // A prototype whose name is a getter only: copying it would throw.
    class Odd extends Error {
      override get name(): string {
        return 'Odd';
      }
    }
    logger.error({ err: Object.assign(new Odd('odd'), { code: 'X1', detail: secret }) }, 'odd');
    // kafkajs hands a handler's failure over as `error`, with its stack beside it.
    const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'redaction', logger });
    kafka.logger().error('Error when calling eachBatch', { error: pgError(), stack: `Error: ${secret}` });
    expect(text()).not.toContain(secret);
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; err?: { code?: string } });
    expect(lines.map((l) => [l.msg, l.err?.code])).toEqual([
      ['aggregate', undefined],
      ['odd', 'X1'],
      ['Error when calling eachBatch', '23505'],
    ]);
  });

  it('leave an error with nothing to redact as it is', () => {
    const { logger, text } = capturedLogger();
    const e = Object.assign(new Error('broker away'), { code: 'ECONNRESET', retriable: true });
    logger.error({ err: e }, 'send failed');
    expect(JSON.parse(text())).toMatchObject({
      err: { type: 'Error', message: 'broker away', code: 'ECONNRESET', retriable: true },
    });
  });
});
