import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port';
import { newClusterId, startKafkaBroker, type Broker, type Membership } from './kafka-broker';

export interface ClusterOptions {
  /** Each node keeps its KRaft log under here; reused across starts. */
  dataRoot: string;
  /** How many nodes; each is a broker and a controller (a voter of the metadata quorum). */
  size: number;
  /** Node `i` (from 0) serves clients on `basePort + i`; free ports when absent. */
  basePort?: number;
  heapMb?: number;
  onLog?: (line: string) => void;
  onProgress?: (line: string) => void;
}

export interface KafkaCluster {
  /** Every node's client address, comma-separated: what services take as KAFKA_BROKERS. */
  bootstrap: string;
  /** The running node at each index, undefined while it is down. */
  node(index: number): Broker | undefined;
  /** SIGTERM one node and wait for it to exit. */
  stopNode(index: number): Promise<void>;
  /** SIGKILL one node: a crash, nothing flushed. */
  killNode(index: number): Promise<void>;
  /** Starts a stopped node again on its own ports and data, and waits until it serves. */
  startNode(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One node keeps the layout `npm start` always had (`<dataRoot>/kafka`); a cluster gets a folder
 * per size, so a `.data` made by one broker is never mistaken for a member of three.
 */
const nodeDir = (dataRoot: string, size: number, index: number): string =>
  size === 1 ? path.join(dataRoot, 'kafka') : path.join(dataRoot, `kafka-cluster-${size}`, `node-${index + 1}`);

/** The id the cluster was formatted with, when any node already has a log; a new one otherwise. */
function clusterIdOf(dirs: string[]): string {
  for (const dir of dirs) {
    const meta = path.join(dir, 'log', 'meta.properties');
    const match = fs.existsSync(meta) ? /^cluster\.id=(.+)$/m.exec(fs.readFileSync(meta, 'utf8')) : null;
    if (match?.[1]) return match[1].trim();
  }
  return newClusterId();
}

/**
 * A KRaft cluster of `size` combined broker+controller nodes on this machine. The nodes start
 * together because none is ready before a majority of voters has elected a controller.
 */
export async function startKafkaCluster(options: ClusterOptions): Promise<KafkaCluster> {
  const indexes = Array.from({ length: options.size }, (_, i) => i);
  const dirs = indexes.map((i) => nodeDir(options.dataRoot, options.size, i));
  const ports: number[] = [];
  const controllerPorts: number[] = [];
  for (const i of indexes) {
    ports.push(options.basePort !== undefined ? options.basePort + i : await freePort());
    controllerPorts.push(await freePort());
  }
  const voters = indexes.map((i) => `${i + 1}@127.0.0.1:${controllerPorts[i]}`).join(',');
  const clusterId = clusterIdOf(dirs);
  const membership = (i: number): Membership => ({
    nodeId: i + 1,
    controllerPort: controllerPorts[i]!,
    voters,
    clusterSize: options.size,
    clusterId,
  });
  const launch = (i: number): Promise<Broker> =>
    startKafkaBroker({
      dataDir: dirs[i]!,
      port: ports[i],
      heapMb: options.heapMb,
      membership: membership(i),
      onLog: options.onLog,
      onProgress: options.onProgress,
    });

  const nodes = new Array<Broker | undefined>(options.size).fill(undefined);
  const started = await Promise.allSettled(indexes.map(async (i) => (nodes[i] = await launch(i))));
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n?.stop() ?? Promise.resolve()));
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const down = async (i: number, how: 'stop' | 'kill'): Promise<void> => {
    const node = nodes[i];
    nodes[i] = undefined;
    await node?.[how]();
  };
  return {
    bootstrap: ports.map((p) => `127.0.0.1:${p}`).join(','),
    node: (i) => nodes[i],
    stopNode: (i) => down(i, 'stop'),
    killNode: (i) => down(i, 'kill'),
    startNode: async (i) => {
      if (nodes[i]) throw new Error(`Kafka node ${i} is already running`);
      nodes[i] = await launch(i);
    },
    stop: stopAll,
  };
}
