/**
 * `npm run bench:kafka-clients`: kafkajs and @platformatic/kafka side by side, on the same broker,
 * with the same messages and the same batching.
 *
 *   npm run bench:kafka-clients -- [--messages 100000] [--batch 500] [--in-flight 1] [--rounds 3]
 *
 * Each round runs each client in a process of its own (this script with `--client`), so its CPU
 * (user + system, from process.cpuUsage) is the client's alone: it produces the messages
 * (idempotent, acks=all, `--batch` messages per request, `--in-flight` requests at once) to a fresh
 * 8-partition topic, then reads them back in a consumer group from the beginning and parses each
 * value. The messages are built before the clock starts: payment-sized JSON, keyed by a UUID,
 * with the `event-id` and `traceparent` headers every message here carries.
 * Starts a broker unless KAFKA_BROKERS is set. Writes bench/results/kafka-clients-<time>.json.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { newTraceparent } from '../common/kafka/client';
import { PROJECT_ROOT } from '../common/project-root';
import { startKafkaBroker } from '../infra/kafka-broker';
import { fixKafkajsIdleTimer } from '../common/kafka/request-queue-fix';
import { parseCommandLine } from './command-line';

const CLIENTS = ['kafkajs', 'platformatic'] as const;
type ClientName = (typeof CLIENTS)[number];

const USAGE = 'usage: npm run bench:kafka-clients -- [--messages N] [--batch N] [--rounds N] [--in-flight N]';
const { values: args } = parseCommandLine(
  () =>
    parseArgs({
      options: {
        messages: { type: 'string', default: '100000' },
        batch: { type: 'string', default: '500' },
        rounds: { type: 'string', default: '3' },
        /** 1 by default: @platformatic/kafka 1.35's idempotent producer fails (OUT_OF_ORDER_SEQUENCE) with more. */
        'in-flight': { type: 'string', default: '1' },
        client: { type: 'string' },
        brokers: { type: 'string' },
        topic: { type: 'string' },
      },
    }),
  USAGE,
  ['messages', 'batch', 'rounds', 'in-flight'],
);
const N = Number(args.messages);
const BATCH = Number(args.batch);
const IN_FLIGHT = Number(args['in-flight']);
const PARTITIONS = 8;

interface Phase {
  cpuMs: number;
  wallMs: number;
}
interface ClientRun {
  client: ClientName;
  produce: Phase;
  consume: Phase;
}

interface Outgoing {
  key: Buffer;
  value: Buffer;
  headers: Record<string, Buffer>;
}

function messages(): Outgoing[] {
  return Array.from({ length: N }, (_, i) => {
    const paymentId = randomUUID();
    const value = {
      version: 1,
      type: 'PAYMENT_REQUESTED',
      paymentId,
      userId: String(1 + (i % 1000)),
      amount: 1 + (i % 100),
      currency: 'EUR',
      createdAt: new Date().toISOString(),
    };
    return {
      key: Buffer.from(paymentId),
      value: Buffer.from(JSON.stringify(value)),
      headers: { 'event-id': Buffer.from(randomUUID()), traceparent: Buffer.from(newTraceparent()) },
    };
  });
}

/** CPU and wall time of `work` in this process. */
async function measured(work: () => Promise<void>): Promise<Phase> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - t0 };
}

/** `IN_FLIGHT` batches at a time, in order. */
async function inBatches(all: Outgoing[], send: (batch: Outgoing[]) => Promise<unknown>): Promise<void> {
  const batches = Array.from({ length: Math.ceil(all.length / BATCH) }, (_, i) =>
    all.slice(i * BATCH, (i + 1) * BATCH),
  );
  for (let i = 0; i < batches.length; i += IN_FLIGHT) await Promise.all(batches.slice(i, i + IN_FLIGHT).map(send));
}

const parse = (value: Buffer | null | undefined): void => void JSON.parse(value?.toString() ?? 'null');

async function runKafkajs(brokers: string[], topic: string, all: Outgoing[]): Promise<ClientRun> {
  fixKafkajsIdleTimer(); // as the services run it
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  const produce = await measured(() => inBatches(all, (batch) => producer.send({ topic, acks: -1, messages: batch })));
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-kafkajs`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const consume = await measured(
    () =>
      new Promise<void>((resolve) => {
        let seen = 0;
        void consumer.run({
          eachBatch: ({ batch }) => {
            for (const m of batch.messages) parse(m.value);
            seen += batch.messages.length;
            if (seen >= all.length) resolve();
            return Promise.resolve();
          },
        });
      }),
  );
  await consumer.disconnect();
  return { client: 'kafkajs', produce, consume };
}

async function runPlatformatic(brokers: string[], topic: string, all: Outgoing[]): Promise<ClientRun> {
  // An ES module only; the project compiles to CommonJS.
  const { Producer: PlatformaticProducer, Consumer: PlatformaticConsumer } = await import('@platformatic/kafka');
  const producer = new PlatformaticProducer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: -1,
  });
  // Its default serialisers take Buffers only, header names included; the Map is built before the clock starts.
  const outgoing = all.map((m) => ({
    topic,
    key: m.key,
    value: m.value,
    headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), v])),
  }));
  const byMessage = new Map(all.map((m, i) => [m, outgoing[i]!]));
  const produce = await measured(() =>
    inBatches(all, (batch) => producer.send({ messages: batch.map((m) => byMessage.get(m)!) })),
  );
  await producer.close();
  const consumer = new PlatformaticConsumer({
    groupId: `${topic}-platformatic`,
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers,
    maxWaitTime: 100,
  });
  const consume = await measured(async () => {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
    let seen = 0;
    for await (const m of stream) {
      parse(m.value);
      if (++seen >= all.length) break;
    }
    await new Promise<void>((resolve, reject) => stream.close((e) => (e ? reject(e) : resolve())));
  });
  await new Promise<void>((resolve, reject) => consumer.close(true, (e) => (e ? reject(e) : resolve())));
  return { client: 'platformatic', produce, consume };
}

/** The child: one client, one round; prints its run as a JSON line. */
async function child(client: ClientName): Promise<void> {
  const brokers = args.brokers!.split(',');
  const all = messages();
  const run =
    client === 'kafkajs'
      ? await runKafkajs(brokers, args.topic!, all)
      : await runPlatformatic(brokers, args.topic!, all);
  process.stdout.write(`${JSON.stringify(run)}\n`);
  process.exit(0);
}

function runChild(client: ClientName, brokers: string, topic: string): Promise<ClientRun> {
  const proc = spawn(
    process.execPath,
    [
      __filename,
      '--client',
      client,
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--messages',
      String(N),
      '--batch',
      String(BATCH),
      '--in-flight',
      String(IN_FLIGHT),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    proc.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ClientRun)
        : reject(new Error(`${client} exited with ${code}`)),
    ),
  );
}

const perThousand = (runs: ClientRun[], phase: 'produce' | 'consume', what: keyof Phase): number =>
  Math.round((runs.reduce((n, r) => n + r[phase][what], 0) / runs.length / (N / 1000)) * 100) / 100;

async function parent(): Promise<void> {
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-kafka-'));
  const broker = process.env.KAFKA_BROKERS
    ? undefined
    : await startKafkaBroker({ dataDir: path.join(dataRoot, 'kafka'), onLog: () => undefined });
  const brokers = process.env.KAFKA_BROKERS ?? `127.0.0.1:${broker!.port}`;
  const admin = new Kafka({ clientId: 'bench-admin', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const runs: ClientRun[] = [];
  try {
    for (let round = 0; round < Number(args.rounds); round++) {
      // Alternating who goes first, so neither always gets the warmer broker.
      for (const client of round % 2 === 0 ? CLIENTS : [...CLIENTS].reverse()) {
        const topic = `bench-clients-${client}-${round}-${Date.now()}`;
        await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
        const run = await runChild(client, brokers, topic);
        runs.push(run);
        process.stdout.write(
          `round ${round + 1} ${client.padEnd(12)} produce ${Math.round(run.produce.cpuMs)} ms CPU / ${Math.round(run.produce.wallMs)} ms, consume ${Math.round(run.consume.cpuMs)} ms CPU / ${Math.round(run.consume.wallMs)} ms\n`,
        );
      }
    }
  } finally {
    await admin.disconnect();
    await broker?.stop();
    fs.rmSync(dataRoot, { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    CLIENTS.map((client) => {
      const mine = runs.filter((r) => r.client === client);
      return [
        client,
        {
          produceCpuMsPer1000: perThousand(mine, 'produce', 'cpuMs'),
          consumeCpuMsPer1000: perThousand(mine, 'consume', 'cpuMs'),
          produceWallMsPer1000: perThousand(mine, 'produce', 'wallMs'),
          consumeWallMsPer1000: perThousand(mine, 'consume', 'wallMs'),
        },
      ];
    }),
  );
  const total = (c: ClientName) => summary[c]!.produceCpuMsPer1000 + summary[c]!.consumeCpuMsPer1000;
  const report = {
    at: new Date().toISOString(),
    settings: { messages: N, batch: BATCH, inFlight: IN_FLIGHT, partitions: PARTITIONS, rounds: Number(args.rounds) },
    summary,
    kafkajsOverPlatformaticCpu: Math.round((total('kafkajs') / total('platformatic')) * 100) / 100,
    runs,
  };
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `kafka-clients-${report.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  for (const c of CLIENTS)
    process.stdout.write(
      `${c.padEnd(12)} CPU per 1,000 messages: produce ${summary[c]!.produceCpuMsPer1000} ms, consume ${summary[c]!.consumeCpuMsPer1000} ms\n`,
    );
  process.stdout.write(
    `kafkajs uses ${report.kafkajsOverPlatformaticCpu}x the CPU of @platformatic/kafka (produce + consume); written to ${path.relative(PROJECT_ROOT, file)}\n`,
  );
}

const asChild = args.client as ClientName | undefined;
/** An AggregateError's causes too: @platformatic/kafka reports a failed send as a tree of them. */
const describe = (e: unknown, depth = 0): string =>
  [
    `${' '.repeat(depth)}${(e as Error).message ?? String(e)}`,
    ...((e as AggregateError).errors ?? []).slice(0, 3).map((c: unknown) => describe(c, depth + 2)),
  ].join('\n');

(asChild ? child(asChild) : parent()).catch((e) => {
  process.stderr.write(`bench failed: ${describe(e)}\n`);
  process.exit(1);
});
