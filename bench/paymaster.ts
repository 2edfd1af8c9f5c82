/**
 * Paymaster throughput: N payments through a real broker with the real 0.5–5 s delays, an
 * in-process stand-in for money-storage, and the paymaster itself in-process.
 *
 *   npm run bench:paymaster -- --payments 100000 [--min 500 --max 5000 --max-in-flight 20000]
 *
 * Uses KAFKA_BROKERS when set, otherwise starts an embedded broker in a temp directory.
 * Writes a JSON report under bench/results/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { BatchPublisher } from '../common/kafka/batch-publisher';
import { createKafka, createProducer, ensureTopics, publish } from '../common/kafka/client';
import { decode, type PaymentRequested } from '../common/kafka/contracts';
import { operationKey, operationResultMessage, paymentRequestedMessage } from '../common/kafka/messages';
import type { TopicNames } from '../common/kafka/topics';
import { asPaymentId, asUserId, newPaymentId } from '../common/ids';
import { createLogger } from '../common/logger';
import { PROJECT_ROOT } from '../common/project-root';
import { startKafkaBroker, type Broker } from '../infra/kafka-broker';
import { loadPaymasterConfig } from '../paymaster/src/config';
import { startPaymaster, type Paymaster } from '../paymaster/src/paymaster';
import { parseCommandLine } from './command-line';
import { percentile } from '../common/percentile';

const USAGE =
  'usage: npm run bench:paymaster -- [--payments N] [--min MS] [--max MS] [--max-in-flight N] [--timeout-s S] [--linger MS] [--tick MS]';
const { values: args } = parseCommandLine(
  () =>
    parseArgs({
      options: {
        payments: { type: 'string', default: '100000' },
        min: { type: 'string', default: '500' },
        max: { type: 'string', default: '5000' },
        'max-in-flight': { type: 'string', default: '20000' },
        'timeout-s': { type: 'string', default: '300' },
        linger: { type: 'string', default: '5' },
        tick: { type: 'string', default: '20' },
      },
    }),
  USAGE,
  ['payments', 'min', 'max', 'max-in-flight', 'timeout-s', 'linger', 'tick'],
);
const N = Number(args.payments);
const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn');

interface Tally {
  processing: number;
  terminal: number;
  outOfOrder: number;
  /** ms since the feed started, one per terminal status, in arrival order. */
  doneAt: number[];
  latenciesMs: number[];
  fedAt: Map<string, number>;
}

async function main(): Promise<void> {
  const { brokers, broker, dataDir } = await kafkaForBench();
  const prefix = `bench_${randomBytes(4).toString('hex')}.`;
  const kafka = createKafka({ brokers, clientId: 'bench', logger });
  const admin = kafka.admin();
  await admin.connect();
  const names = await ensureTopics(admin, prefix);
  await admin.disconnect();

  const plain = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench' });
  const responder = await startResponder(kafka, plain, names);
  const tally: Tally = { processing: 0, terminal: 0, outOfOrder: 0, doneAt: [], latenciesMs: [], fedAt: new Map() };
  const t0 = { at: 0 };
  const counter = await startCounter(plain, names, tally, t0);
  const paymaster = await startPaymaster(
    loadPaymasterConfig({
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      PAYMASTER_DELAY_MIN_MS: args.min,
      PAYMASTER_DELAY_MAX_MS: args.max,
      PAYMASTER_MAX_IN_FLIGHT: args['max-in-flight'],
      PAYMASTER_PUBLISH_LINGER_MS: args.linger,
      PAYMASTER_STAGE_TICK_MS: args.tick,
      PORT: '0',
      LOG_LEVEL: 'warn',
    }),
    logger,
  );
  const sampler = sample(paymaster);

  t0.at = Date.now();
  const feedMs = await feed(kafka, names, N, tally.fedAt);
  console.log(`fed ${N} payments in ${feedMs} ms; waiting for terminal statuses...`);
  await waitAll(tally, Number(args['timeout-s']) * 1000);
  const wallMs = Date.now() - t0.at;
  sampler.stop();

  const report = buildReport(tally, wallMs, feedMs, paymaster, sampler.peak());
  await paymaster.stop();
  await Promise.all([responder.stop(), counter.disconnect()]);
  await broker?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  writeReport(report);
}

async function kafkaForBench(): Promise<{ brokers: string[]; broker?: Broker; dataDir?: string }> {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS.split(',') };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-paymaster-'));
  console.log('starting an embedded Kafka broker...');
  const broker = await startKafkaBroker({ dataDir: path.join(dataDir, 'kafka'), heapMb: 1024 });
  return { brokers: [broker.bootstrap], broker, dataDir };
}

/** Money-storage stand-in: APPLIED for every debit (1 in 10 REJECTED), final when it asks so, and settle, answered in batches. */
async function startResponder(kafka: Kafka, plain: Kafka, names: TopicNames): Promise<{ stop: () => Promise<void> }> {
  const producer = createProducer(kafka);
  await producer.connect();
  const publisher = new BatchPublisher(producer, names, { lingerMs: 5, maxBatch: 2000, logger });
  const consumer = plain.consumer({
    groupId: `${names.moneyOperations}-responder`,
    maxWaitTimeInMs: 100,
    minBytes: 64 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: names.moneyOperations, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const acks: Promise<void>[] = [];
      for (const m of batch.messages) {
        const decoded = decode('moneyOperations', m.value);
        if (!decoded.ok) throw new Error(`the paymaster sent an invalid command: ${decoded.error}`);
        const op = decoded.value;
        const rejected = op.kind === 'DEBIT' && op.paymentId.endsWith('0');
        const answer = rejected
          ? { outcome: 'REJECTED' as const, reason: 'INSUFFICIENT_FUNDS' as const, balanceAfter: null }
          : {
              outcome: 'APPLIED' as const,
              reason: null,
              balanceAfter: '1000000',
              ...(op.kind === 'DEBIT' && op.settle ? { settled: true as const } : {}),
            };
        acks.push(
          publisher.publish('moneyOperationResults', {
            key: operationKey(op),
            value: operationResultMessage(op, answer),
          }),
        );
      }
      // Published together (the publisher batches them), acknowledged before the offsets move on.
      await Promise.all(acks);
    },
  });
  return {
    stop: async () => {
      await consumer.disconnect();
      await publisher.stop();
      await producer.disconnect();
    },
  };
}

async function startCounter(plain: Kafka, names: TopicNames, tally: Tally, t0: { at: number }): Promise<Consumer> {
  const consumer = plain.consumer({
    groupId: `${names.statusPayments}-counter`,
    maxWaitTimeInMs: 100,
    minBytes: 64 * 1024,
  });
  const stage = new Map<string, number>();
  await consumer.connect();
  await consumer.subscribe({ topic: names.statusPayments, fromBeginning: true });
  await consumer.run({
    eachBatch: ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const decoded = decode('statusPayments', m.value);
        if (!decoded.ok) throw new Error(`the paymaster sent an invalid status: ${decoded.error}`);
        const s = decoded.value;
        const before = stage.get(s.paymentId) ?? 0;
        if (s.seq <= before) continue;
        if (s.seq === 3 && before !== 2) tally.outOfOrder++;
        stage.set(s.paymentId, s.seq);
        if (s.seq === 2) tally.processing++;
        if (s.seq !== 3) continue;
        tally.terminal++;
        tally.doneAt.push(now - t0.at);
        const fed = tally.fedAt.get(s.paymentId);
        if (fed !== undefined) tally.latenciesMs.push(now - fed);
      }
      return Promise.resolve();
    },
  });
  return consumer;
}

async function feed(kafka: Kafka, names: TopicNames, n: number, fedAt: Map<string, number>): Promise<number> {
  const producer = createProducer(kafka);
  await producer.connect();
  const start = Date.now();
  for (let i = 0; i < n; i += 1000) {
    const chunk: PaymentRequested[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const payment = {
        paymentId: asPaymentId(newPaymentId()),
        userId: asUserId(String(1 + (j % 5000))),
        amount: 100,
        currency: 'EUR' as const,
      };
      chunk.push(paymentRequestedMessage(payment, new Date()));
    }
    const now = Date.now();
    for (const p of chunk) fedAt.set(p.paymentId, now);
    await publish(
      producer,
      names,
      'payments',
      chunk.map((p) => ({ key: p.paymentId, value: p })),
    );
  }
  await producer.disconnect();
  return Date.now() - start;
}

function waitAll(tally: Tally, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (tally.terminal >= N) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`only ${tally.terminal}/${N} payments finished within ${timeoutMs} ms`));
      }
    }, 20);
  });
}

/** Peak RSS and in-flight, sampled; `maxRSS` from the kernel backs the RSS figure. */
function sample(paymaster: Paymaster): { stop: () => void; peak: () => { inFlight: number; rssMb: number } } {
  let inFlight = 0;
  let rss = 0;
  const timer = setInterval(() => {
    inFlight = Math.max(inFlight, paymaster.stats().inFlight);
    rss = Math.max(rss, process.memoryUsage().rss);
  }, 100);
  return {
    stop: () => clearInterval(timer),
    peak: () => ({ inFlight, rssMb: Math.round(Math.max(rss, process.resourceUsage().maxRSS * 1024) / 1048576) }),
  };
}

/** Completions/s between the 25th and 75th percent finished: the pipeline's pace once it is full. */
function middleHalfRate(doneAt: number[]): number {
  const a = doneAt[Math.floor(doneAt.length / 4)] ?? 0;
  const b = doneAt[Math.floor((doneAt.length * 3) / 4)] ?? 0;
  return b > a ? Math.round((doneAt.length / 2 / (b - a)) * 1000) : NaN;
}

function buildReport(
  tally: Tally,
  wallMs: number,
  feedMs: number,
  paymaster: Paymaster,
  peak: { inFlight: number; rssMb: number },
) {
  const perSecond = new Map<number, number>();
  for (const t of tally.doneAt) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  const lat = [...tally.latenciesMs].sort((a, b) => a - b);
  const stats = paymaster.stats();
  return {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    params: {
      payments: N,
      delayMs: [Number(args.min), Number(args.max)],
      maxInFlight: Number(args['max-in-flight']),
      publishLingerMs: Number(args.linger),
      stageTickMs: Number(args.tick),
    },
    feedMs,
    wallMs,
    completedPerSec: Math.round((tally.terminal / wallMs) * 1000),
    peakCompletedInOneSecond: Math.max(0, ...perSecond.values()),
    middleHalfPerSec: middleHalfRate(tally.doneAt),
    inFlightPeak: Math.max(peak.inFlight, stats.inFlightPeak),
    peakRssMb: peak.rssMb,
    rssNote: 'whole bench process: paymaster + money-storage stand-in + feeder + counter',
    terminal: tally.terminal,
    processingSeen: tally.processing,
    terminalWithoutProcessingFirst: tally.outOfOrder,
    latencyMs: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] ?? NaN },
  };
}

function writeReport(report: ReturnType<typeof buildReport>): void {
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `paymaster-${report.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  console.log(`written to ${path.relative(PROJECT_ROOT, file)}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    logger.error({ err: e }, 'bench failed');
    console.error(e);
    process.exit(1);
  },
);
