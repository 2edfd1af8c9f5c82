import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { durabilityFor } from '../common/kafka/topic-durability';
import { PROJECT_ROOT as ROOT } from '../common/project-root';
import { waitFor } from '../common/wait-for';
import { freePort } from './free-port';
import { fetchKafkaJars, requireJava } from './kafka-fetch';

/**
 * A real Apache Kafka node in KRaft mode (broker and controller in one process), from Maven
 * Central jars, run with the machine's Java 17: alone, or one voter of a cluster
 * (`kafka-cluster.ts`). Used by `npm start`, the tests and the benchmark on machines without Docker.
 */
const POM = path.join(ROOT, 'tools', 'kafka', 'pom.xml');
const LOG_CONFIG = path.join(ROOT, 'tools', 'kafka', 'log4j2.yaml');
const run = promisify(execFile);

export interface BrokerOptions {
  /** Holds the KRaft log; reused across starts, so a restart keeps every topic and offset. */
  dataDir: string;
  /** Fixed port for the client listener; a free one when absent. */
  port?: number;
  heapMb?: number;
  /** This node's place in a cluster; a cluster of one when absent. */
  membership?: Membership;
  onLog?: (line: string) => void;
  /** Long first steps (fetching the jars) say what they do and how far along they are. */
  onProgress?: (line: string) => void;
}

/** How a node joins a cluster: every node names the same voters and was formatted with the same cluster id. */
export interface Membership {
  nodeId: number;
  /** This node's controller listener; fixed, since the other voters know it by port. */
  controllerPort: number;
  /** `id@host:controllerPort` of every voter, comma-separated. */
  voters: string;
  clusterSize: number;
  clusterId: string;
}

export interface Broker {
  bootstrap: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  /** Simulates a crash: no clean shutdown. */
  kill(): Promise<void>;
}

function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, 'utf8'));
  if (!match?.[1]) throw new Error(`no <kafka.version> in ${POM}`);
  return match[1];
}

/** Fetches the broker's jars once with Maven; later starts reuse `.kafka/lib-<version>`. */
async function ensureKafkaJars(onProgress: (line: string) => void = () => undefined): Promise<string> {
  const version = kafkaVersion();
  const libDir = path.join(ROOT, '.kafka', `lib-${version}`);
  if (fs.existsSync(libDir) && fs.readdirSync(libDir).some((f) => f.startsWith('kafka_2.13'))) return libDir;
  await fetchKafkaJars(POM, version, onProgress);
  return libDir;
}

/** The broker's own topics (consumer offsets) are as durable as the system's (`durabilityFor`). */
function serverProperties(dataDir: string, port: number, m: Membership): string {
  const { replicationFactor: replicas, minInsyncReplicas: minIsr } = durabilityFor(m.clusterSize);
  return [
    'process.roles=broker,controller',
    `node.id=${m.nodeId}`,
    `controller.quorum.voters=${m.voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${m.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${path.join(dataDir, 'log')}`,
    'num.partitions=8',
    'auto.create.topics.enable=false',
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=8',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    // Sized for a laptop or a 2-core box rather than Kafka's server defaults (3 network, 8 I/O
    // threads): more threads than cores only add context switches.
    'num.network.threads=2',
    'num.io.threads=2',
    'log.retention.hours=168',
    // An index entry per 256 bytes of log instead of per 4 KB: a fetch that finds new data looks up
    // its offset from the nearest entry by reading batch headers one pread at a time, and this
    // project's batches are small. Measured at 150 payments/s: the broker's read syscalls
    // 4,915 -> 2,346 a second. Each entry costs up to 20 bytes of offset and time index per 256
    // of log, and a segment rolls once its 10 MB index is full (~200 MB of log instead of 1 GB).
    'log.index.interval.bytes=256',
  ].join('\n');
}

/** A random cluster id; passed as `--cluster-id=...` because one may start with '-'. */
export const newClusterId = (): string => randomBytes(16).toString('base64url');

/** A node of its own, as `npm start` and most tests run it. */
const standalone = async (): Promise<Membership> => {
  const controllerPort = await freePort();
  return {
    nodeId: 1,
    controllerPort,
    voters: `1@127.0.0.1:${controllerPort}`,
    clusterSize: 1,
    clusterId: newClusterId(),
  };
};

async function waitUntilServing(bootstrap: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  await waitFor(
    `the Kafka broker on ${bootstrap}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`broker exited with code ${child.exitCode}`);
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.controller !== null && cluster.controller >= 0 ? true : undefined;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    timeoutMs,
    300,
  );
}

export async function startKafkaBroker(options: BrokerOptions): Promise<Broker> {
  await requireJava();
  const libDir = await ensureKafkaJars(options.onProgress);
  const classpath = path.join(libDir, '*');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const membership = options.membership ?? (await standalone());
  const propsFile = path.join(options.dataDir, 'server.properties');
  fs.writeFileSync(propsFile, serverProperties(options.dataDir, port, membership));

  if (!fs.existsSync(path.join(options.dataDir, 'log', 'meta.properties'))) {
    await run('java', [
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${membership.clusterId}`,
      '--config',
      propsFile,
    ]);
  }
  const heap = `${options.heapMb ?? 768}m`;
  const child = spawn(
    'java',
    [
      `-Xmx${heap}`,
      `-Xms${heap}`,
      // Throughput collector: young collections of a small heap are brief, and it has none of G1's
      // concurrent threads competing for the same cores as the services.
      '-XX:+UseParallelGC',
      `-Dlog4j2.configurationFile=${LOG_CONFIG}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      propsFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const onLog = options.onLog ?? (() => undefined);
  child.stdout?.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(onLog));
  child.stderr?.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(onLog));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Whatever ends this process (a crash, a closed terminal), the broker must not outlive it.
  const orphanGuard = (): void => void child.kill('SIGTERM');
  process.once('exit', orphanGuard);
  void exited.then(() => process.removeListener('exit', orphanGuard));
  const bootstrap = `127.0.0.1:${port}`;

  const stopWith = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilServing(bootstrap, child, 90_000);
  } catch (e) {
    await stopWith('SIGKILL', 0);
    throw e;
  }
  return {
    bootstrap,
    port,
    pid: child.pid ?? -1,
    stop: () => stopWith('SIGTERM', 30_000),
    kill: () => stopWith('SIGKILL', 0),
  };
}
