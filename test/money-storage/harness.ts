import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Producer } from 'kafkajs';
import { createKafka, createProducer, publish } from '../../common/kafka/client';
import type { MoneyOperation, MoneyOperationResult } from '../../common/kafka/contracts';
import {
  compensationCommand,
  debitCommand,
  depositCommand,
  operationKey,
  settleCommand,
} from '../../common/kafka/messages';
import type { TopicNames } from '../../common/kafka/topics';
import { asOperationId, asPaymentId, asUserId, type UserId } from '../../common/ids';
import { createLogger } from '../../common/logger';
import type { Currency } from '../../common/money';
import { loadMoneyStorageConfig, type MoneyStorageConfig } from '../../money-storage/src/config';
import { startMoneyStorage, type MoneyStorage, type StartOptions } from '../../money-storage/src/service';
import { migrateMoneyDb } from '../../money-storage/db/migrate';
import { connectDatabase, type Database } from '../../common/db';
import * as schema from '../../money-storage/db/schema';
import { Ledger } from '../../money-storage/src/ledger';
import { collect, eventually, freshDatabase, freshTopics, kafkaBrokers } from '../support/infra';
import { testSecrets } from '../support/secrets';
import { readJson } from '../../common/http';
import { USER_LOOKUP_PATH } from '../../common/user-lookup';

export const SERVICE_TOKEN = testSecrets().INTERNAL_SERVICE_TOKEN;

/** How the stub gateway treats a user: a status, or a failure mode. */
export type StubUser =
  'ACTIVE' | 'BLOCKED' | 'FAIL_503' | 'DROP_CONNECTION' | 'CUT_ANSWER' | 'HANG' | 'BAD_REQUEST' | 'NOT_JSON';

/**
 * A real HTTP server playing the gateway's batched user lookup (`POST USER_LOOKUP_PATH`). A
 * failure mode on any user asked for is what the whole request meets, as a real gateway's
 * failure would be.
 */
export interface GatewayStub {
  url: string;
  users: Map<string, StubUser>;
  /** Requests received per user id, to count retries and cache hits. */
  requests: Map<string, number>;
  /** How many ids each request asked for, in arrival order. */
  batches: number[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

const FAILURE_MODES: readonly StubUser[] = [
  'HANG',
  'DROP_CONNECTION',
  'CUT_ANSWER',
  'FAIL_503',
  'BAD_REQUEST',
  'NOT_JSON',
];

export async function startGatewayStub(): Promise<GatewayStub> {
  const users = new Map<string, StubUser>();
  const requests = new Map<string, number>();
  const batches: number[] = [];
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url !== USER_LOOKUP_PATH || req.method !== 'POST') return reply(404, { error: 'no route' });
    if (req.headers['x-service-token'] !== SERVICE_TOKEN) return reply(401, { error: 'bad token' });
    void readJson(req, 64 * 1024).then((body) => {
      const ids = (body as { ids: string[] }).ids;
      batches.push(ids.length);
      for (const id of ids) requests.set(id, (requests.get(id) ?? 0) + 1);
      const failure = FAILURE_MODES.find((mode) => ids.some((id) => users.get(id) === mode));
      if (failure === 'FAIL_503') return reply(503, { error: 'down' });
      if (failure === 'BAD_REQUEST') return reply(400, { error: 'refused' });
      if (failure === 'DROP_CONNECTION') return void req.socket.destroy();
      if (failure === 'NOT_JSON') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      if (failure === 'CUT_ANSWER') {
        // Headers and half a body promised as whole, then the connection goes.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
        res.write('{"users":[');
        return void setImmediate(() => req.socket.destroy());
      }
      if (failure === 'HANG') return; // never answers: the client's timeout must fire
      const found = ids.flatMap((id) => {
        const status = users.get(id);
        return status === undefined ? [] : [{ id, userName: `user-${id}`, status }];
      });
      return reply(200, { users: found });
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    requests,
    batches,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const newUserId = (): UserId => asUserId(String(randomInt(1_000_000, 2 ** 47)));

/** The paymaster's debit: final once applied. */
export const debit = (
  userId: UserId,
  amount: number,
  currency: Currency = 'USD',
  paymentId: string = randomUUID(),
): Debit => debitCommand({ paymentId: asPaymentId(paymentId), userId, amount, currency }) as Debit;

/** A debit as older paymasters sent it: applied, it waits for a SETTLE, and a compensation may reverse it. */
export const unsettledDebit = (userId: UserId, amount: number): Debit =>
  debitCommand({ paymentId: asPaymentId(randomUUID()), userId, amount, currency: 'USD' }, { settle: false }) as Debit;

export const deposit = (userId: UserId, amount: number, currency: Currency = 'USD'): MoneyOperation =>
  depositCommand(asOperationId(`deposit:${randomUUID()}`), { userId, amount, currency });

/** The paymaster's compensation of that debit, with the paymaster's operation id. */
export const compensation = (of: Debit): MoneyOperation => compensationCommand(of);

/** Makes the debit final, as the paymaster does before it publishes COMPLETED. */
export const settle = (of: Debit): MoneyOperation => settleCommand(of);

export interface Received {
  topic: string;
  key: string;
  value: unknown;
  headers: Record<string, string>;
}

/** Topics, a database, a stub gateway, a producer of commands and a collector of everything published. */
export interface Harness {
  names: TopicNames;
  databaseUrl: string;
  gateway: GatewayStub;
  pool: pg.Pool;
  producer: Producer;
  received: Received[];
  config(overrides?: NodeJS.ProcessEnv): MoneyStorageConfig;
  start(overrides?: NodeJS.ProcessEnv, options?: StartOptions): Promise<MoneyStorage>;
  send(ops: MoneyOperation[], traceparent?: string): Promise<void>;
  results(operationId: string): MoneyOperationResult[];
  /** Waits until `count` results for the operation have been published, and returns them. */
  waitResults(operationId: string, count?: number, timeoutMs?: number): Promise<MoneyOperationResult[]>;
  balance(userId: UserId, currency?: Currency): Promise<string | null>;
  ledgerSum(userId: UserId, currency?: Currency): Promise<string>;
  close(): Promise<void>;
}

export async function createHarness(label: string): Promise<Harness> {
  const [{ prefix, names }, databaseUrl, gateway] = await Promise.all([
    freshTopics(label),
    freshDatabase(label),
    startGatewayStub(),
  ]);
  // Also done by the service on start; here so a test can seed rows before starting one.
  await migrateMoneyDb(databaseUrl);
  const kafka = createKafka({
    brokers: kafkaBrokers(),
    clientId: `test-${label}`,
    logger: createLogger('test', 'silent'),
  });
  const producer = createProducer(kafka);
  await producer.connect();
  const collector = await collect([names.moneyOperationResults, `${names.moneyOperations}.dlq`]);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const services: MoneyStorage[] = [];

  const config = (overrides: NodeJS.ProcessEnv = {}): MoneyStorageConfig =>
    loadMoneyStorageConfig({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      INTERNAL_PORT: '0',
      GATEWAY_URL: gateway.url,
      INTERNAL_SERVICE_TOKEN: SERVICE_TOKEN,
      GATEWAY_TIMEOUT_MS: '300',
      GATEWAY_RETRIES: '2',
      GATEWAY_RETRY_BASE_MS: '20',
      LOG_LEVEL: 'silent',
      ...overrides,
    });
  const results = (operationId: string): MoneyOperationResult[] =>
    collector.messages
      .filter(
        (m) => m.topic === names.moneyOperationResults && (m.value as MoneyOperationResult).operationId === operationId,
      )
      .map((m) => m.value as MoneyOperationResult);

  const harness: Harness = {
    names,
    databaseUrl,
    gateway,
    pool,
    producer,
    received: collector.messages,
    config,
    start: async (overrides, options) => {
      const service = await startMoneyStorage(
        config(overrides),
        createLogger('money-storage', overrides?.LOG_LEVEL ?? 'silent'),
        options,
      );
      services.push(service);
      return service;
    },
    send: (ops, traceparent) =>
      publish(
        producer,
        names,
        'moneyOperations',
        ops.map((value) => ({ key: operationKey(value), value, traceparent })),
      ),
    results,
    waitResults: (operationId, count = 1, timeoutMs = 20_000) =>
      eventually(
        `${count} result(s) for ${operationId}`,
        () => {
          const found = results(operationId);
          return found.length >= count ? found : undefined;
        },
        timeoutMs,
      ),
    balance: async (userId, currency = 'USD') => {
      const { rows } = await pool.query<{ balance: string }>(
        'SELECT balance::text AS balance FROM money.accounts WHERE user_id = $1 AND currency = $2',
        [userId, currency],
      );
      return rows[0]?.balance ?? null;
    },
    ledgerSum: async (userId, currency = 'USD') => {
      const { rows } = await pool.query<{ sum: string }>(
        'SELECT coalesce(sum(amount), 0)::text AS sum FROM money.ledger_entries WHERE user_id = $1 AND currency = $2',
        [userId, currency],
      );
      return rows[0]!.sum;
    },
    close: async () => {
      await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
      await Promise.all([collector.stop(), producer.disconnect(), pool.end(), gateway.close()]);
    },
  };
  return harness;
}

/** A harness with one money-storage process already running. */
export async function startedHarness(label: string): Promise<Harness> {
  const h = await createHarness(label);
  await h.start();
  return h;
}

/** Puts money on an account through the service itself (a DEPOSIT command). */
export async function fund(h: Harness, userId: UserId, amount: number, currency: Currency = 'USD'): Promise<void> {
  const op = deposit(userId, amount, currency);
  await h.send([op]);
  const [result] = await h.waitResults(op.operationId);
  if (result?.outcome !== 'APPLIED') throw new Error(`funding failed: ${JSON.stringify(result)}`);
}

/** Puts money on an account behind the service's back (no gateway call, so nothing gets cached), ledger included. */
export async function seed(h: Harness, userId: UserId, amount: number, currency: Currency = 'USD'): Promise<void> {
  await h.pool.query(
    `WITH a AS (INSERT INTO money.accounts (user_id, currency, balance) VALUES ($1, $2, $3))
     INSERT INTO money.ledger_entries (operation_id, kind, purpose, user_id, currency, amount, balance_after)
     VALUES ($4, 'CREDIT', 'OPENING', $1, $2, $3, $3)`,
    [userId, currency, amount, `seed:${randomUUID()}`],
  );
}

export type Debit = MoneyOperation & { kind: 'DEBIT' };

/** A funded user (1000) and an unsettled debit of 300 that money-storage applied. */
export async function appliedUnsettledDebit(h: Harness): Promise<Debit> {
  const user = newUserId();
  h.gateway.users.set(user, 'ACTIVE');
  await seed(h, user, 1000);
  const op = unsettledDebit(user, 300);
  await h.send([op]);
  expect((await h.waitResults(op.operationId))[0]).toMatchObject({ outcome: 'APPLIED', balanceAfter: '700' });
  return op;
}

/**
 * A debit of 300 that money-storage refuses (the account holds 10), followed by `next` for it:
 * returns `next`'s answer once the refusal is checked.
 */
export async function afterRejectedDebit(
  h: Harness,
  next: (op: Debit) => MoneyOperation,
): Promise<MoneyOperationResult> {
  const user = newUserId();
  h.gateway.users.set(user, 'ACTIVE');
  await seed(h, user, 10);
  const op = debit(user, 300);
  const follow = next(op);
  await h.send([op, follow]);
  expect((await h.waitResults(op.operationId))[0]).toMatchObject({ outcome: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
  const [answer] = await h.waitResults(follow.operationId);
  expect(await h.balance(user)).toBe('10');
  return answer!;
}

/** The Ledger alone on a database of its own, with one user holding 1000 USD (ledger included). */
export async function ledgerWithOneAccount(
  label: string,
): Promise<{ ledger: Ledger; user: UserId; database: Database<typeof schema> }> {
  const url = await freshDatabase(label);
  await migrateMoneyDb(url);
  const database = connectDatabase(url, schema, 20);
  const user = newUserId();
  await database.pool.query(
    `INSERT INTO money.accounts (user_id, currency, balance) VALUES ($1, 'USD', 1000);
     INSERT INTO money.ledger_entries (operation_id, kind, purpose, user_id, currency, amount, balance_after) VALUES ('seed', 'CREDIT', 'OPENING', $1, 'USD', 1000, 1000)`.replace(
      /\$1/g,
      user,
    ),
  );
  return { ledger: new Ledger(database.db), user, database };
}
