import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '../common/kafka/client';
import { weakTopics, withDlqs } from '../common/kafka/topic-durability';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster';
import { ensureDatabase, startEmbeddedPostgres, type Postgres } from './postgres';

export interface InfraOptions {
  /** Where the embedded broker and database keep their data. */
  dataRoot: string;
  /** External Kafka (comma-separated bootstrap list); the embedded broker starts when absent. */
  kafkaBrokers?: string;
  /** External Postgres; the embedded one starts when absent. */
  databaseUrl?: string;
  /** The embedded broker's client port; in a cluster, node `i` takes `kafkaPort + i`. */
  kafkaPort?: number;
  /** How many embedded Kafka nodes (KRaft, each a broker and a controller); 1 when absent. */
  kafkaNodes?: number;
  /** Heap of each embedded Kafka node. */
  kafkaHeapMb?: number;
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
  kafka?: KafkaCluster;
  postgres?: Postgres;
  /** Existing topics less durable than the cluster allows (`weakTopics`), one line each. */
  weakTopics: string[];
  /** For fault tests: stop an embedded Kafka node (the first by default), then start it again on the same ports and data. */
  stopBroker(node?: number): Promise<void>;
  startBroker(node?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Brings up whatever Kafka and Postgres the environment does not provide, then creates topics and the database. */
export async function startInfra(options: InfraOptions): Promise<Infra> {
  const log = options.onLog ?? (() => undefined);
  const launchKafka = (): Promise<KafkaCluster> =>
    startKafkaCluster({
      dataRoot: options.dataRoot,
      size: options.kafkaNodes ?? 1,
      basePort: options.kafkaPort,
      heapMb: options.kafkaHeapMb,
      onLog: (l) => log('kafka', l),
      onProgress: options.onProgress,
    });
  const [kafkaResult, postgresResult] = await Promise.allSettled([
    options.kafkaBrokers ? undefined : launchKafka(),
    options.databaseUrl
      ? undefined
      : startEmbeddedPostgres(path.join(options.dataRoot, 'postgres'), options.postgresPort, (l) => log('postgres', l)),
  ]);
  const kafka = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined;
  const postgres = postgresResult.status === 'fulfilled' ? postgresResult.value : undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([kafka?.stop(), postgres?.stop()]);
  };
  for (const result of [kafkaResult, postgresResult]) {
    if (result.status === 'rejected') {
      await stop(); // one of the two came up: do not leave it running
      throw result.reason;
    }
  }
  const kafkaBrokers = options.kafkaBrokers ?? kafka!.bootstrap;
  const serverUrl = options.databaseUrl ?? postgres!.serverUrl;
  const databaseUrl = options.database ? await ensureDatabase(serverUrl, options.database) : serverUrl;

  const weak = await prepareTopics(kafkaBrokers, options.topicPrefix ?? '').catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  const embedded = (): KafkaCluster => {
    if (!kafka) throw new Error('Kafka is external: there is no embedded broker to stop or start');
    return kafka;
  };
  return {
    kafkaBrokers,
    databaseUrl,
    kafka,
    postgres,
    weakTopics: weak,
    stopBroker: (node = 0) => embedded().stopNode(node),
    startBroker: (node = 0) => embedded().startNode(node),
    stop,
  };
}

/** Creates the topics, then names any existing one weaker than the cluster allows. */
async function prepareTopics(kafkaBrokers: string, prefix: string): Promise<string[]> {
  const admin = new Kafka({ brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await weakTopics(admin, withDlqs(await ensureTopics(admin, prefix)));
  } finally {
    await admin.disconnect();
  }
}
