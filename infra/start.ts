import { secretsFilePath } from '../common/secrets';
import { loadGatewayConfig } from '../gateway/src/config';
import { ConfigError } from '../common/config';
import { requirePortsFree } from './free-port';
import { loadLaunchConfig } from './launch-config';
import { formatLogLine, isInfraFailureLine } from './stack';
import { PaymentSystem, replicaPort } from './system';
import { takeBackStopSignals } from './postgres';

/**
 * `npm start [-- --brokers N --replicas N]`: Kafka and Postgres (embedded unless KAFKA_BROKERS /
 * DATABASE_URL are given), topics, then the services as separate processes, N of each. Ctrl-C stops all of it.
 */
const config = loadLaunchConfig(process.env, process.argv.slice(2));

const print = (line: string): void => void process.stdout.write(`${line}\n`);
// When whoever reads our output goes away first (npm exiting on Ctrl-C), keep shutting down quietly.
process.stdout.on('error', () => undefined);

/** Every fixed port this launch binds, by the variable that moves it (each replica's too). */
function fixedPorts(): Array<[string, number]> {
  const replicas = Array.from({ length: config.replicas }, (_, i) => i);
  const services = {
    GATEWAY_PORT: config.GATEWAY_PORT,
    GATEWAY_INTERNAL_PORT: config.GATEWAY_INTERNAL_PORT,
    PAYMASTER_PORT: config.PAYMASTER_PORT,
    MONEY_STORAGE_PORT: config.MONEY_STORAGE_PORT,
    MONEY_STORAGE_INTERNAL_PORT: config.MONEY_STORAGE_INTERNAL_PORT,
  };
  return [
    ...(config.KAFKA_BROKERS
      ? []
      : Array.from({ length: config.brokers }, (_, i): [string, number] => ['KAFKA_PORT', config.KAFKA_PORT + i])),
    ...(config.DATABASE_URL ? [] : [['POSTGRES_PORT', config.POSTGRES_PORT] as [string, number]]),
    ...Object.entries(services).flatMap(([variable, base]) =>
      replicas.map((i): [string, number] => [variable, replicaPort(base, i)]),
    ),
  ];
}

function printReady(system: PaymentSystem): void {
  const g = system.url('gateway');
  print('');
  print('all services ready:');
  print(`  GraphQL        ${g}/graphql`);
  print(`  Subscriptions  ${g.replace('http', 'ws')}/graphql   (graphql-ws)`);
  if (loadGatewayConfig(system.env).EXPLORER)
    print(`  Explorer       ${g}/explorer   (GraphiQL; signed in as demo outside production)`);
  print(`  REST           ${g}/api/payments`);
  print(
    `  Internal APIs  ${system.internalUrl('gateway')}/internal/users/:id, ${system.internalUrl('money-storage')}/internal/{accounts,ledger}/:userId   (header x-service-token)`,
  );
  for (const [name, replica] of system.instances())
    print(`  ${`${name}${system.replicas > 1 ? ` #${replica}` : ''}`.padEnd(14)} ${system.url(name, replica)}/readyz`);
  print(`  Kafka          ${system.infra.kafkaBrokers}`);
  for (const weak of system.infra.weakTopics) print(`  WARNING        weak topic ${weak}`);
  print(`  Postgres       ${system.infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`);
  print(`  secrets        ${secretsFilePath(process.env)} (unless JWT_SECRET / INTERNAL_SERVICE_TOKEN are set)`);
  print('  a token:       npm run token -- alice [--role operator] [--ttl 1h]');
  print('press Ctrl-C to stop');
}

async function main(): Promise<void> {
  await requirePortsFree(fixedPorts());
  print(
    `starting Kafka (${config.KAFKA_BROKERS ? 'external' : `${config.brokers} node${config.brokers > 1 ? 's' : ''}`}), Postgres and ${config.replicas} of each service...`,
  );
  let system: PaymentSystem | undefined;
  let stopping = false;
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    print('stopping services, then Kafka and Postgres...');
    await system?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  system = await PaymentSystem.start({
    dataRoot: config.DATA_DIR,
    kafkaBrokers: config.KAFKA_BROKERS,
    databaseUrl: config.DATABASE_URL,
    kafkaPort: config.KAFKA_PORT,
    kafkaNodes: config.brokers,
    // Several nodes share the machine with the services: a modest heap each is plenty locally.
    kafkaHeapMb: config.brokers > 1 ? 512 : undefined,
    replicas: config.replicas,
    postgresPort: config.POSTGRES_PORT,
    database: config.database,
    ports: {
      gateway: config.GATEWAY_PORT,
      paymaster: config.PAYMASTER_PORT,
      'money-storage': config.MONEY_STORAGE_PORT,
    },
    internalPorts: { gateway: config.GATEWAY_INTERNAL_PORT, 'money-storage': config.MONEY_STORAGE_INTERNAL_PORT },
    onProgress: print,
    onLog: (source, line) => {
      if (isInfraFailureLine(line)) print(formatLogLine(source, line));
    },
    onServiceLine: (name, line) => print(formatLogLine(name, line)),
    onUnexpectedExit: (name, code, restartInMs) =>
      print(`${name} exited unexpectedly (code ${code}); restarting it in ${restartInMs} ms`),
  });
  takeBackStopSignals();
  printReady(system);
}

main().catch((e) => {
  // A setting or a machine to fix (a port taken, a directory closed) is said as such; anything
  // else is a bug, with its stack.
  print(`start failed: ${e instanceof ConfigError ? e.problems.join('\n  ') : ((e as Error).stack ?? String(e))}`);
  process.exit(1);
});
