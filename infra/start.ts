import path from 'node:path';
import { z } from 'zod';
import { env, loadConfig } from '../common/config';
import { PROJECT_ROOT } from '../common/project-root';
import { startInfra } from './infrastructure';
import { SERVICES, formatLogLine, spawnService, stopService, waitReady, type ServiceName, type ServiceProcess } from './stack';

/**
 * `npm start`: Kafka and Postgres (embedded unless KAFKA_BROKERS / DATABASE_URL are given),
 * topics, then the three services as separate processes. Ctrl-C stops all of it.
 */
const config = loadConfig({
  KAFKA_BROKERS: z.string().optional(),
  DATABASE_URL: z.string().url().optional(),
  KAFKA_PORT: env.port(9092),
  POSTGRES_PORT: env.port(5433),
  GATEWAY_PORT: env.port(4000),
  PAYMASTER_PORT: env.port(4001),
  MONEY_STORAGE_PORT: env.port(4002),
  DATA_DIR: z.string().default(path.join(PROJECT_ROOT, '.data')),
});

const print = (line: string): void => void process.stdout.write(`${line}\n`);

/** Whatever has been started so far; a failed start must not leave a broker or a database behind. */
let stopAll: (code: number) => Promise<void> = async (code) => process.exit(code);

async function main(): Promise<void> {
  print('starting Kafka and Postgres (first start fetches the broker with Maven)...');
  const infra = await startInfra({
    dataRoot: config.DATA_DIR,
    kafkaBrokers: config.KAFKA_BROKERS,
    databaseUrl: config.DATABASE_URL,
    kafkaPort: config.KAFKA_PORT,
    postgresPort: config.POSTGRES_PORT,
    database: 'payments',
    onLog: (source, line) => {
      if (/error|fatal/i.test(line)) print(formatLogLine(source, line));
    },
  });
  stopAll = async (code) => {
    await infra.stop();
    process.exit(code);
  };
  const ports: Record<ServiceName, number> = {
    gateway: config.GATEWAY_PORT,
    paymaster: config.PAYMASTER_PORT,
    'money-storage': config.MONEY_STORAGE_PORT,
  };
  const shared = {
    KAFKA_BROKERS: infra.kafkaBrokers,
    DATABASE_URL: infra.databaseUrl,
    GATEWAY_URL: `http://127.0.0.1:${ports.gateway}`,
    MONEY_STORAGE_URL: `http://127.0.0.1:${ports['money-storage']}`,
  };
  const running: ServiceProcess[] = SERVICES.map((name) => spawnService(name, ports[name], shared, (n, l) => print(formatLogLine(n, l))));

  let stopping = false;
  stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    print('stopping services...');
    await Promise.all(running.map((s) => stopService(s)));
    print('stopping Kafka and Postgres...');
    await infra.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  for (const s of running) {
    void s.exited.then((code) => {
      if (!stopping) {
        print(`${s.name} exited unexpectedly (code ${code}); stopping everything`);
        void stopAll(1);
      }
    });
  }

  await Promise.all(running.map((s) => waitReady(s, 120_000)));
  const g = `127.0.0.1:${ports.gateway}`;
  print('');
  print('all services ready:');
  print(`  GraphQL        http://${g}/graphql`);
  print(`  Subscriptions  ws://${g}/graphql   (graphql-ws)`);
  print(`  REST           http://${g}/api/payments`);
  for (const s of running) print(`  ${s.name.padEnd(14)} http://127.0.0.1:${s.port}/readyz`);
  print(`  Kafka          ${infra.kafkaBrokers}`);
  print(`  Postgres       ${infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`);
  print('  a token:       npm run token -- alice');
  print('press Ctrl-C to stop');
}

main().catch((e) => {
  print(`start failed: ${(e as Error).stack ?? String(e)}`);
  void stopAll(1);
});
