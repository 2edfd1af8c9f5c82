import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '../common/kafka/client';
import { startKafkaBroker, type Broker } from './kafka-broker';
import { ensureDatabase, startEmbeddedPostgres, type Postgres } from './postgres';

export interface InfraOptions {
  /** Where the embedded broker and database keep their data. */
  dataRoot: string;
  /** External Kafka (comma-separated bootstrap list); the embedded broker starts when absent. */
  kafkaBrokers?: string;
  /** External Postgres; the embedded one starts when absent. */
  databaseUrl?: string;
  kafkaPort?: number;
  postgresPort?: number;
  database?: string;
  topicPrefix?: string;
  onLog?: (source: 'kafka' | 'postgres', line: string) => void;
  /** Progress of long first steps, for people watching a start. */
  onProgress?: (line: string) => void;
}

export interface Infra {
  kafkaBrokers: string;
  databaseUrl: string;
  broker?: Broker;
  postgres?: Postgres;
  /** For fault tests: stop the embedded broker, then start it again on the same port and data. */
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  stop(): Promise<void>;
}

/** Brings up whatever Kafka and Postgres the environment does not provide, then creates topics and the database. */
export async function startInfra(options: InfraOptions): Promise<Infra> {
  const log = options.onLog ?? (() => undefined);
  const launchBroker = (port?: number) => startKafkaBroker({ dataDir: path.join(options.dataRoot, 'kafka'), port, onLog: (l) => log('kafka', l), onProgress: options.onProgress });
  const [brokerResult, postgresResult] = await Promise.allSettled([
    options.kafkaBrokers ? undefined : launchBroker(options.kafkaPort),
    options.databaseUrl
      ? undefined
      : startEmbeddedPostgres(path.join(options.dataRoot, 'postgres'), options.postgresPort, (l) => log('postgres', l)),
  ]);
  const broker = brokerResult.status === 'fulfilled' ? brokerResult.value : undefined;
  const postgres = postgresResult.status === 'fulfilled' ? postgresResult.value : undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([broker?.stop(), postgres?.stop()]);
  };
  for (const result of [brokerResult, postgresResult]) {
    if (result.status === 'rejected') {
      await stop(); // one of the two came up: do not leave it running
      throw result.reason;
    }
  }
  const kafkaBrokers = options.kafkaBrokers ?? broker!.bootstrap;
  const serverUrl = options.databaseUrl ?? postgres!.serverUrl;
  const databaseUrl = options.database ? await ensureDatabase(serverUrl, options.database) : serverUrl;

  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, options.topicPrefix ?? '');
  } finally {
    await admin.disconnect();
  }
  const infra: Infra = {
    kafkaBrokers,
    databaseUrl,
    broker,
    postgres,
    stopBroker: async () => {
      if (!infra.broker) throw new Error('Kafka is external: there is no embedded broker to stop');
      await infra.broker.stop();
    },
    startBroker: async () => {
      if (!infra.broker) throw new Error('Kafka is external: there is no embedded broker to start');
      infra.broker = await launchBroker(infra.broker.port);
    },
    stop: async () => {
      await Promise.all([infra.broker?.stop(), infra.postgres?.stop()]);
    },
  };
  return infra;
}
