import path from 'node:path';
import pg from 'pg';
import type { MoneyOperationResult } from '../../common/kafka/contracts';
import { applyMigrations, connectDatabase, type Database } from '../../common/db';
import { newPaymentId, type OperationId, type PaymentId, type UserId } from '../../common/ids';
import { PROJECT_ROOT } from '../../common/project-root';
import * as gatewaySchema from '../../gateway/db/schema';
import { DepositStore } from '../../gateway/src/deposit-store';
import { PaymentStore, type NewPayment } from '../../gateway/src/payment-store';
import * as moneySchema from '../../money-storage/db/schema';
import { Ledger } from '../../money-storage/src/ledger';
import { MIGRATIONS_FOLDER } from '../../money-storage/src/service';
import { freshDatabase } from '../support/infra';

/**
 * The batch statements join their tables to a jsonb batch that the planner takes for 100 rows
 * (BATCH_KEYS in common/db.ts). On a young table, never analysed, that planned a scan of the
 * whole table for every batch. Each statement is explained here as Postgres plans it on the
 * first executions (with its values) and once the prepared statement turns generic.
 */
const USERS = 2000;
const PAYMENTS = 30_000;
const BIG_TABLES = ['payments', 'users', 'deposits', 'accounts', 'processed_operations'];

interface Statement {
  name: string;
  text: string;
  values: unknown[];
}

/** Every named statement run through the pool, by name, into `seen`. */
function recordStatements(pool: pg.Pool, seen: Map<string, Statement>): void {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
    const c = config as Partial<Statement>;
    // Drizzle's own prepared queries pass their values apart from the config.
    const values = c.values ?? (Array.isArray(rest[0]) ? (rest[0] as unknown[]) : []);
    if (typeof c === 'object' && c?.name && c.text) seen.set(c.name, { name: c.name, text: c.text, values });
    return query(config, ...rest);
  };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

const scansOf = (node: PlanNode): string[] => [
  ...(node['Node Type'] === 'Seq Scan' && node['Relation Name'] ? [node['Relation Name']] : []),
  ...(node.Plans ?? []).flatMap(scansOf),
];

/** The tables this statement would read whole, planned custom (with its values) or generic. */
async function wholeTableScans(client: pg.PoolClient, s: Statement, mode: 'custom' | 'generic'): Promise<string[]> {
  await client.query(`SET plan_cache_mode = force_${mode}_plan`);
  await client.query(`PREPARE explained AS ${s.text}`);
  try {
    // EXECUTE takes no bound parameters: its arguments are spelled out as literals.
    const literal = (v: unknown): string => client.escapeLiteral(v instanceof Date ? v.toISOString() : String(v));
    const args = s.values.map(literal).join(', ');
    const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (FORMAT JSON) EXECUTE explained${args ? `(${args})` : ''}`,
    );
    return scansOf(rows[0]!['QUERY PLAN'][0]!.Plan).filter((table) => BIG_TABLES.includes(table));
  } finally {
    await client.query('DEALLOCATE explained');
  }
}

describe('batch statements on young tables (real Postgres, never analysed)', () => {
  let gateway: Database<typeof gatewaySchema>;
  let money: Database<typeof moneySchema>;
  const statements = new Map<string, Statement>();

  beforeAll(async () => {
    const url = await freshDatabase('plans');
    await applyMigrations(url, path.join(PROJECT_ROOT, 'gateway', 'db', 'migrations'), 'gateway');
    await applyMigrations(url, MIGRATIONS_FOLDER, 'money');
    gateway = connectDatabase(url, gatewaySchema, 2);
    money = connectDatabase(url, moneySchema, 2);
    await gateway.pool.query(`
      INSERT INTO gateway.users (user_name) SELECT 'user-' || n FROM generate_series(1, ${USERS}) n;
      INSERT INTO gateway.payments (id, user_id, amount, currency, status)
        SELECT gen_random_uuid(), 1 + n % ${USERS}, 100, 'USD', 'PROCESSING' FROM generate_series(1, ${PAYMENTS}) n;
      INSERT INTO money.accounts (user_id, currency, balance) SELECT id, 'USD', 1000000 FROM gateway.users;
      INSERT INTO gateway.deposits (operation_id, user_id, requested_by, channel, idempotency_key, amount, currency)
        SELECT 'deposit:' || n, 1 + n % ${USERS}, 'user', 'SELF', 'key-' || n, 100, 'USD' FROM generate_series(1, ${PAYMENTS}) n;
      INSERT INTO money.processed_operations (operation_id, kind, user_id, outcome)
        SELECT 'op-' || n, 'DEBIT', 1 + n % ${USERS}, 'APPLIED' FROM generate_series(1, ${PAYMENTS}) n;`);
    recordStatements(gateway.pool, statements);
    recordStatements(money.pool, statements);
    const gatewayStore = new PaymentStore(gateway.db, 0);
    const { rows } = await gateway.pool.query<{ id: PaymentId }>('SELECT id FROM gateway.payments LIMIT 2');
    await gatewayStore.applyStatuses(rows.map((r) => ({ paymentId: r.id, status: 'COMPLETED', reason: null, seq: 5 })));
    const at = new Date().toISOString();
    await new DepositStore(gateway.db).recordOutcomes(
      // Only what the store reads of a result.
      ['deposit:1', 'deposit:2'].map(
        (id) => ({ operationId: id, outcome: 'APPLIED', reason: null, at }) as MoneyOperationResult,
      ),
    );
    const userId = await gatewayStore.userIdFor('user-1');
    await gatewayStore.createPayment({
      id: newPaymentId(),
      userId,
      amount: 100,
      currency: 'USD',
      idempotencyKey: null,
      // The store keeps it as it is; only the relay reads it.
      outboxPayload: {} as NewPayment['outboxPayload'],
      traceparent: '',
    });
    const debit = (user: string) => ({
      operationId: `plans-${user}` as OperationId,
      kind: 'DEBIT' as const,
      paymentId: newPaymentId(),
      userId: user as UserId,
      currency: 'USD' as const,
      amount: 1,
      settle: true,
    });
    const ledger = new Ledger(money.db);
    await ledger.debitMany([debit('1'), debit('2')], 0);
    // As many as a busy fetch looks up at once.
    await ledger.findProcessedMany(Array.from({ length: 50 }, (_, n) => `op-${n * 7}` as OperationId));
  });

  afterAll(async () => {
    await gateway?.close();
    await money?.close();
  });

  it.each([
    ['gateway-insert-payments', 'custom'],
    ['gateway-insert-payments', 'generic'],
    ['gateway-apply-statuses', 'custom'],
    ['gateway-apply-statuses', 'generic'],
    ['gateway-record-deposit-outcomes', 'custom'],
    ['gateway-record-deposit-outcomes', 'generic'],
    ['money-apply-debits', 'custom'],
    ['money-apply-debits', 'generic'],
    ['money-find-processed', 'custom'],
    ['money-find-processed', 'generic'],
  ] as const)('%s reads no table whole (%s plan)', async (name, mode) => {
    const statement = statements.get(name);
    expect(statement).toBeDefined();
    const client = await gateway.pool.connect();
    try {
      expect(await wholeTableScans(client, statement!, mode)).toEqual([]);
    } finally {
      client.release();
    }
  });
});
