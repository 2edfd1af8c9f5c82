import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { CreatePayment, CreditAccount, MyAccounts } from '../../client/operations';
import { TOPICS } from '../../common/kafka/topics';
import { GatewayClient } from '../../client/gateway-client';
import { PROJECT_ROOT } from '../../common/project-root';
import { waitFor } from '../../common/wait-for';
import { signToken } from '../../gateway/src/auth';
import { tokenPolicy } from '../../gateway/src/token-config';
import { loadGatewayConfig } from '../../gateway/src/config';
import { freePortBlock } from '../../infra/free-port';
import { PaymentSystem, REPLICA_PORT_STRIDE } from '../../infra/system';
import { eventually, uniqueName } from '../support/infra';
import { testSecrets } from '../support/secrets';
import { ADMISSION_OFF } from '../gateway/harness';
import { TERMINAL_STATUSES } from '../../common/payment-status';

const run = promisify(execFile);

export interface E2ESystem {
  system: PaymentSystem;
  sql: pg.Pool;
  /** A user's client of gateway replica `replica` (the first by default). */
  client(userName: string, replica?: number): GatewayClient;
  /** A client whose token carries the `operator` role. */
  operator(userName: string): GatewayClient;
  serviceToken: string;
  jwtSecret: string;
  /** Runs `npm run reconcile`'s program against this system; resolves its exit code and report. */
  reconcile(): Promise<{ code: number; report: { ok: boolean } & Record<string, unknown> }>;
  /** The services' recent log lines (warnings and worse) that mention `text`. */
  linesAbout(text: string): string[];
  /** How many lines the services have logged so far: a mark for `linesSince`. */
  linesLogged(): number;
  /** The lines logged after `mark`; `dropped`: how many of them the recent buffer no longer holds. */
  linesSince(mark: number): { lines: string[]; dropped: number };
  stop(): Promise<void>;
}

export interface E2EOptions {
  /** A Kafka of the suite's own, which it may stop and restart; otherwise the run's broker under a topic prefix of the suite's. */
  ownKafka: boolean;
  env: NodeJS.ProcessEnv;
  /** Nodes of the suite's own Kafka (KRaft, each a broker and a voter); 1 when absent. */
  kafkaNodes?: number;
  kafkaHeapMb?: number;
  /** Processes of every service, on base ports + 10·i as under `npm start`; 1 when absent. */
  replicas?: number;
}

/** Enough warnings to cover a fault scenario, for the forensics of a failed one. */
const RECENT_LINES = 5000;

/**
 * The services as separate processes, started by the same launcher as `npm start`. The database
 * is always a fresh one on the run's Postgres.
 */
export async function startE2E(label: string, options: E2EOptions): Promise<E2ESystem> {
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-${label}-`));
  fs.chmodSync(dataRoot, 0o755);
  const recent: string[] = [];
  let logged = 0;
  const replicas = options.replicas ?? 1;
  const basePort = (): Promise<number> => freePortBlock(replicas, REPLICA_PORT_STRIDE);
  const system = await PaymentSystem.start({
    dataRoot,
    kafkaBrokers: options.ownKafka ? undefined : process.env.TEST_KAFKA_BROKERS,
    databaseUrl: process.env.TEST_DATABASE_SERVER_URL,
    database: uniqueName(`e2e_${label}`).toLowerCase(),
    topicPrefix: options.ownKafka ? '' : `${uniqueName(label)}.`,
    kafkaNodes: options.kafkaNodes,
    kafkaHeapMb: options.kafkaHeapMb,
    replicas,
    ports: { gateway: await basePort(), paymaster: await basePort(), 'money-storage': await basePort() },
    env: { LOG_LEVEL: 'warn', ...testSecrets(), ...ADMISSION_OFF, ...options.env },
    onServiceLine: (name, line) => {
      logged += 1;
      recent.push(`${name}: ${line}`);
      if (recent.length > RECENT_LINES) recent.shift();
      if (process.env.E2E_LOG) process.stdout.write(`${name}: ${line}\n`);
    },
    // Its own lines: the others' retries during an outage would crowd out the reason it exited.
    onUnexpectedExit: (name, code, restartInMs) =>
      process.stdout.write(
        `${name} exited unexpectedly with ${code}, restarting in ${restartInMs} ms; its last lines:\n${recent
          .filter((line) => line.startsWith(`${name}: `))
          .slice(-10)
          .join('\n')}\n`,
      ),
  });
  const gatewayConfig = loadGatewayConfig(system.env);
  const sql = new pg.Pool({ connectionString: system.infra.databaseUrl, max: 4 });
  return {
    system,
    sql,
    serviceToken: gatewayConfig.INTERNAL_SERVICE_TOKEN,
    jwtSecret: gatewayConfig.JWT_SECRET,
    client: (userName, replica = 0) =>
      new GatewayClient(system.url('gateway', replica), signToken(userName, tokenPolicy(gatewayConfig))),
    operator: (userName) =>
      new GatewayClient(
        system.url('gateway'),
        signToken(userName, tokenPolicy(gatewayConfig), { roles: ['operator'] }),
      ),
    reconcile: async () => {
      const script = path.join(PROJECT_ROOT, 'dist', 'tools', 'reconcile', 'main.js');
      const result = await run(process.execPath, [script, '--json'], { env: { ...process.env, ...system.env } }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code?: number; stdout?: string }) => ({ code: e.code ?? 2, stdout: e.stdout ?? '' }),
      );
      return { code: result.code, report: JSON.parse(result.stdout) as { ok: boolean } & Record<string, unknown> };
    },
    linesAbout: (text) => recent.filter((line) => line.includes(text)),
    linesLogged: () => logged,
    linesSince: (mark) => {
      const since = logged - mark;
      return { lines: since > 0 ? recent.slice(-since) : [], dropped: Math.max(0, since - recent.length) };
    },
    stop: async () => {
      await sql.end();
      await system.stop();
      fs.rmSync(dataRoot, { recursive: true, force: true });
    },
  };
}

/** Status counts of these payments, once every one is terminal (or throws after `timeoutMs`). */
export async function awaitTerminal(sql: pg.Pool, ids: string[], timeoutMs: number): Promise<Record<string, number>> {
  // The probe throws while some are not terminal, so a timeout reports the last counts.
  return waitFor(
    'every payment to be terminal',
    async () => {
      const { rows } = await sql.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM gateway.payments WHERE id = ANY($1::uuid[]) GROUP BY status',
        [ids],
      );
      const counts: Record<string, number> = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      const terminal = TERMINAL_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
      if (terminal === ids.length) return counts;
      throw new Error(`only ${terminal} of ${ids.length} payments are terminal: ${JSON.stringify(counts)}`);
    },
    timeoutMs,
  );
}

const partitioner = Partitioners.DefaultPartitioner();
/** The partition kafkajs' default partitioner (the one every producer here uses) picks for a key. */
export const partitionOf = (key: string, partitions: number): number =>
  partitioner({
    topic: '',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });

/**
 * The liveness check after an attack: a funded user creates payments until every partition of
 * `payments` holds at least `perPartition`, and every one of them must COMPLETE. A stalled
 * partition anywhere in the flow leaves some of them short of it.
 */
export async function completeOnEveryPartition(e2e: E2ESystem, userName: string, perPartition = 5): Promise<void> {
  const partitions = TOPICS.payments.partitions;
  await e2e.client(userName).data(MyAccounts); // the user exists before the operator names them
  await e2e
    .operator('liveness-operator')
    .data(CreditAccount, { userName, amount: 1_000_000, currency: 'EUR', idempotencyKey: `fund-${userName}` });
  // The credit travels through Kafka too: a payment that overtook it would be REJECTED.
  await eventually(
    `${userName}'s funds`,
    async () =>
      (await e2e.client(userName).data(MyAccounts)).myAccounts.some((a) => a.balance !== '0') ? true : undefined,
    30_000,
  );
  const perPartitionCount = new Array<number>(partitions).fill(0);
  const ids: string[] = [];
  while (perPartitionCount.some((n) => n < perPartition)) {
    if (ids.length > partitions * perPartition * 10)
      throw new Error(`payments never covered every partition: ${perPartitionCount.join(',')}`);
    const { createPayment } = await e2e.client(userName).data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    ids.push(createPayment.id);
    perPartitionCount[partitionOf(createPayment.id, partitions)]! += 1;
  }
  expect(await awaitTerminal(e2e.sql, ids, 60_000)).toEqual({ COMPLETED: ids.length });
}
