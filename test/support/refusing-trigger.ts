import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface RefusingTrigger {
  /** How many writes the trigger has refused so far (a sequence counts them: it is not rolled back). */
  attempts(): Promise<number>;
}

/**
 * Makes a real Postgres refuse the rows matching `when` (a condition on NEW) with `sqlstate`:
 * always, or only the first `times` attempts. A failure that passes every schema check, for
 * telling how a consumer treats a permanent (22xxx) or a passing (40001, 40P01) database failure.
 */
export async function refuseWrites(
  pool: pg.Pool,
  target: { schema: string; table: string; event: 'INSERT' | 'UPDATE'; when: string },
  sqlstate: string,
  times: 'always' | number,
): Promise<RefusingTrigger> {
  const name = `${target.schema}.refuse_${randomUUID().replace(/-/g, '')}`;
  const refuse = times === 'always' ? 'true' : `nextval('${name}') <= ${times}`;
  await pool.query(`
    CREATE SEQUENCE ${name};
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (${target.when}) AND ${refuse} THEN
        RAISE EXCEPTION 'refused by a test trigger' USING ERRCODE = '${sqlstate}';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${name.split('.')[1]} BEFORE ${target.event} ON ${target.schema}.${target.table} FOR EACH ROW EXECUTE FUNCTION ${name}();`);
  return {
    attempts: async () =>
      Number((await pool.query<{ last_value: string }>(`SELECT last_value FROM ${name}`)).rows[0]?.last_value),
  };
}
