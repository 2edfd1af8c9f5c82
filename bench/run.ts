/**
 * `npm run bench`: the whole system under load, through its public API only.
 *
 *   npm run bench -- [--users 1000] [--rate 2000] [--duration 60] [--subscribers 5000]
 *                    [--api graphql|rest] [--subscriber-processes 4] [--delay real|zero]
 *                    [--baseline-seconds 10] [--profile DIR] [--overload] [--client-sockets 256]
 *                    [--warmup 60]
 *
 * Starts Kafka, Postgres and the three services as `npm start` does (KAFKA_BROKERS / DATABASE_URL
 * are honoured) and seeds users with deposits. It then offers the run's rate for `--warmup`
 * seconds, unmeasured, and waits for those payments to finish: a broker started a minute ago
 * spends more CPU compiling its own code than serving requests (see WARMUP), and an operator's
 * system runs warm. A plain Apollo Server answering a trivial mutation,
 * driven closed-loop while the stack is idle, gives the HTTP layer's ceiling. Then a separate load
 * process offers createPayment at a fixed rate (open loop), through GraphQL or the REST facade,
 * while graphql-ws subscribers, spread over `--subscriber-processes` watcher processes, watch
 * their payments. Last, createPayment closed loop (the gateway restarted without its slow start):
 * with the pipeline running, then with the
 * paymaster and money-storage stopped (the gateway alone, against the plain Apollo ceiling).
 * `--overload` offers three times what createPayment sustains (measured closed loop just before,
 * after twenty seconds of warm-up for the pipeline, instead of `--rate`) and reports how the excess was answered: accepted, refused at once with
 * RESOURCE_EXHAUSTED, or failed; then that every accepted payment finished and reconcile is clean.
 * Writes bench/results/<timestamp>.json, a chart of the run beside it (<timestamp>.svg: throughput
 * and latency per second, see chart.ts) and prints a table.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { GatewayClient } from '../client/gateway-client';
import { CreatePayment, Deposit } from '../client/operations';
import { PROJECT_ROOT } from '../common/project-root';
import { signToken } from '../gateway/src/auth';
import { loadGatewayConfig } from '../gateway/src/config';
import { tokenPolicy } from '../gateway/src/token-config';
import { sleep } from '../common/sleep';
import { waitFor } from '../common/wait-for';
import { withTimeout } from '../common/with-timeout';
import { freePort } from '../infra/free-port';
import { PaymentSystem } from '../infra/system';
import { renderChart } from './chart';
import type { LoadPlan, LoadResult } from './load-generator';
import { readingsBetween, scrapeGateway, type GatewayReadings } from './gateway-readings';
import { ResourceSampler } from './resources';
import { summarize } from './stats';
import {
  mergePushSeconds,
  perSecondIncrease,
  runTimeline,
  steadyRate,
  type CountAt,
  type PushSecond,
} from './timeline';
import { parseCommandLine } from './command-line';
import { TERMINAL_STATUSES } from '../common/payment-status';

const USAGE = `usage: npm run bench -- [--users N] [--rate N] [--duration S] [--subscribers N] [--api graphql|rest]
       [--delay real|zero] [--baseline-seconds S] [--overload] [--client-sockets N]
       [--subscriber-processes N] [--profile DIR] [--warmup S]`;
const { values: args } = parseCommandLine(
  () =>
    parseArgs({
      options: {
        users: { type: 'string', default: '1000' },
        rate: { type: 'string', default: '2000' },
        duration: { type: 'string', default: '60' },
        subscribers: { type: 'string', default: '5000' },
        /** createPayment through GraphQL (`/graphql`) or the REST facade (`POST /api/payments`). */
        api: { type: 'string', default: 'graphql' },
        delay: { type: 'string', default: 'real' },
        'baseline-seconds': { type: 'string', default: '10' },
        /** Writes a V8 CPU profile of every service to this folder when they stop (open in Chrome DevTools). */
        profile: { type: 'string' },
        overload: { type: 'boolean', default: false },
        /** Processes that share the subscribers (each a graphql-ws client per subscriber). */
        'subscriber-processes': { type: 'string', default: '4' },
        /**
         * Connections the load generator keeps to the gateway. Requests beyond them wait in the
         * generator, where the gateway cannot see (or refuse) them; raise it to show the gateway
         * the whole of an overload.
         */
        'client-sockets': { type: 'string', default: '256' },
        /** Seconds of unmeasured load before the run, at its rate (see WARMUP); 0 for none. */
        warmup: { type: 'string', default: '60' },
      },
    }),
  USAGE,
  ['users', 'rate', 'duration', 'subscribers', 'baseline-seconds', 'subscriber-processes', 'client-sockets', 'warmup'],
);
const USERS = Number(args.users);
if (args.api !== 'graphql' && args.api !== 'rest') throw new Error(`--api must be graphql or rest, not ${args.api}`);
const API: 'graphql' | 'rest' = args.api;
const zeroDelay = args.delay === 'zero';
const print = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * A ceiling counts only what comes after a process's first seconds under load: the baseline
 * server and the restarted gateway are new processes, whose code runs unoptimised at first (the
 * gateway alone measured 61-80/s in a 2-second window and 614-651/s in a 10-second one, same day).
 */
const CEILING_WARMUP_S = 5;

/**
 * What the whole system sustains: createPayment closed loop, counted only once the pipeline's work
 * for it has arrived (each payment costs most of its CPU one to ten seconds after it is accepted,
 * in the paymaster's two delays) and the gateway's slow start (pipeline-pace.ts) has ramped up
 * from idle, so the first seconds' rate does not count.
 */
const PIPELINE_WARMUP_S = 20;

/** createPayment (or the baseline's ping) closed loop for `seconds`, after `warmupS` not counted. */
async function closedLoop(plan: LoadPlan, seconds: number, warmupS = CEILING_WARMUP_S): Promise<LoadResult> {
  const run = await runLoad({ ...plan, mode: 'closed', concurrency: 64, durationS: warmupS + seconds }, 0).result;
  return { ...run, achievedPerSecond: steadyRate(run.timeline ?? [], warmupS, seconds) };
}

/**
 * A JVM compiles its hot code for its first minutes of load, on the same cores: the broker's C2
 * compiler took 8.1 of its 16.2 CPU-s in a run's first 30 s at 250 payments/s offered, 3.0 of 9.7
 * in the next 30, and 0.7 of 6.8 in the fifth, when the broker had settled at 0.23 cores. A
 * 60-second run on a cold system counted that as a cost of its payments: about 1 ms each.
 * What is measured is a warm system, as it runs in production; the warm-up's payments finish
 * before the baseline, so nothing of them is counted.
 */
async function warmUp(plan: LoadPlan, seconds: number, sql: pg.Pool): Promise<void> {
  if (seconds <= 0) return;
  print(`warming up: ${plan.rate} createPayment/s for ${seconds} s, not measured...`);
  await runLoad({ ...plan, durationS: seconds, subscribers: 0 }, 0).result;
  await drain(sql);
}

async function main(): Promise<void> {
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  fs.chmodSync(dataRoot, 0o755);
  print(`starting the system (${zeroDelay ? 'zero' : 'real 0.5-5 s'} delays)...`);
  const system = await startSystem(dataRoot);
  const sql = new pg.Pool({ connectionString: system.infra.databaseUrl, max: 2 });
  try {
    const plan = await seededPlan(system, sql);
    await warmUp(plan, Number(args.warmup), sql);
    const seconds = Number(args['baseline-seconds']);
    // Before the load: payments created meanwhile would still be flowing through the pipeline
    // and share the cores with the baseline, understating the ceiling.
    print(`plain Apollo for ${seconds} s, closed loop (the HTTP layer's ceiling on this machine)...`);
    const baseline = await runBaseline(plan, seconds);
    // The gateway's own ceiling: measured before the load when the load is a multiple of it.
    const sustained = args.overload ? await closedLoop(plan, seconds, PIPELINE_WARMUP_S) : undefined;
    if (sustained) {
      plan.rate = 3 * sustained.achievedPerSecond;
      // The overload starts on a quiet system, not on the measurement's payments still in flight.
      await drain(sql);
    }
    const run = await measureLoad(system, plan, sql, dataRoot);
    const reconciled = args.overload ? await reconcileClean(system) : undefined;
    const ceilings = await measureCeilings(system, plan, seconds, sustained);
    writeReport(buildReport({ plan, run, baseline, ceilings, sustained, reconciled }));
  } finally {
    await sql.end();
    await system.stop();
    fs.rmSync(dataRoot, { recursive: true, force: true });
  }
}

/** The stack as `npm start` runs it, on ports of its own, users free to seed themselves. */
async function startSystem(dataRoot: string): Promise<PaymentSystem> {
  return PaymentSystem.start({
    dataRoot,
    kafkaBrokers: process.env.KAFKA_BROKERS,
    databaseUrl: process.env.DATABASE_URL,
    database: `bench_${Date.now()}`,
    ports: { gateway: await freePort(), paymaster: await freePort(), 'money-storage': await freePort() },
    env: {
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      // Users seed themselves with self-service deposits (a development convenience, capped by default).
      SELF_DEPOSIT_MAX: '1000000000',
      ...(zeroDelay ? { PAYMASTER_DELAY_MIN_MS: '0', PAYMASTER_DELAY_MAX_MS: '0' } : {}),
    },
    execArgv: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`] : [],
    onServiceLine: (name, line) => {
      if (/"level":"(error|fatal)"/.test(line)) print(`${name}: ${line.slice(0, 300)}`);
    },
  });
}

/** The run's users, signed in and funded, and the load the command line asks for. */
async function seededPlan(system: PaymentSystem, sql: pg.Pool): Promise<LoadPlan> {
  const policy = tokenPolicy(loadGatewayConfig(system.env));
  const userNames = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`);
  const tokens = userNames.map((name) => signToken(name, policy, { ttlSeconds: 6 * 3600 }));
  await seed(system, tokens, sql);
  return {
    url: system.url('gateway'),
    tokens,
    userNames,
    mode: 'open',
    rate: Number(args.rate),
    concurrency: 0,
    durationS: Number(args.duration),
    subscribers: Number(args.subscribers),
    subscriberOffset: 0,
    request: API,
    maxSockets: Number(args['client-sockets']),
  };
}

/** The load with its subscribers, until the last payment is terminal, and every process's CPU meanwhile. */
async function measureLoad(system: PaymentSystem, plan: LoadPlan, sql: pg.Pool, dataRoot: string) {
  const pushGraceMs = zeroDelay ? 2000 : 12_000;
  const watchers = await startWatchers(plan, Number(args['subscriber-processes']), pushGraceMs, sql);
  const terminalBefore = await terminalCount(sql);
  const sampler = new ResourceSampler(() => ({
    gateway: system.service('gateway')?.child.pid,
    paymaster: system.service('paymaster')?.child.pid,
    'money-storage': system.service('money-storage')?.child.pid,
    kafka: system.infra.kafka?.node(0)?.pid,
    postgres: postmasterPid(dataRoot),
    load: loadPid,
  })).start();
  print(
    `offering ${plan.rate} createPayment/s (${API}) for ${plan.durationS} s with ${plan.subscribers} subscribers...`,
  );
  const tracker = trackCompletions(sql);
  const gatewayBefore = await scrapeGateway(plan.url);
  const load = runLoad(plan, 0);
  for (const w of watchers) w.go();
  const requests = await load.result;
  // From the load's end, while the watchers wait out their grace for the last pushes.
  const draining = drain(sql);
  const gatewayReadings = readingsBetween(gatewayBefore, await scrapeGateway(plan.url));
  const main = mergePushes(requests, await Promise.all(watchers.map((w) => w.result)));
  const completions = tracker.summary(plan.durationS);
  const drainS = await draining;
  // Sampled through the drain, so the chart shows the pipeline emptying after the load.
  const completedPerSecond = await tracker.stop(requests.startedAtMs ?? Date.now());
  // CPU from the start of the load until the last payment is terminal, over the payments that finished meanwhile.
  const resources = sampler.stop();
  const finished = (await terminalCount(sql)) - terminalBefore;
  const systemCpuSeconds = Object.entries(resources).reduce(
    (n, [name, u]) => n + (name === 'load' ? 0 : u.cpuSeconds),
    0,
  );
  return {
    requests,
    main,
    gatewayReadings,
    completions,
    drainS,
    completedPerSecond,
    resources,
    finished,
    systemCpuSeconds,
  };
}

/**
 * The gateway's own capacity: measured without its slow start, which keeps a pipeline that
 * finishes nothing (idle at first, then stopped) at its floor, as it should.
 */
async function measureCeilings(
  system: PaymentSystem,
  plan: LoadPlan,
  seconds: number,
  sustained: LoadResult | undefined,
): Promise<{ gatewayMax: LoadResult; gatewayAlone: LoadResult }> {
  await system.stopService('gateway');
  await system.startService('gateway', 0, { ADMISSION_PACE_FLOOR_PER_SECOND: '0' });
  print(`the gateway's createPayment for ${seconds} s, closed loop...`);
  const gatewayMax = sustained ?? (await closedLoop(plan, seconds));
  print(`the gateway alone (paymaster and money-storage stopped) for ${seconds} s, closed loop...`);
  await Promise.all([system.stopService('paymaster'), system.stopService('money-storage')]);
  return { gatewayMax, gatewayAlone: await closedLoop(plan, seconds) };
}

/** The JSON a run writes (`bench/results/<time>.json`), its figures named as issue #12 names them. */
function buildReport(r: {
  plan: LoadPlan;
  run: Awaited<ReturnType<typeof measureLoad>>;
  baseline: LoadResult;
  ceilings: { gatewayMax: LoadResult; gatewayAlone: LoadResult };
  sustained: LoadResult | undefined;
  reconciled: boolean | undefined;
}) {
  const { plan, run, baseline, sustained } = r;
  const { main, gatewayReadings, resources, finished, drainS } = run;
  const { gatewayMax, gatewayAlone } = r.ceilings;
  return {
    /** CPU ms per finished payment, summed over gateway, paymaster, money-storage, Kafka and Postgres (not the load generator or the subscribers). */
    cpuMsPerPayment: Math.round((run.systemCpuSeconds * 1000 * 100) / Math.max(1, finished)) / 100,
    cpuCountedOver: { payments: finished, processes: Object.keys(resources).filter((name) => name !== 'load') },
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    settings: {
      users: USERS,
      api: API,
      rate: plan.rate,
      durationS: plan.durationS,
      subscribers: plan.subscribers,
      warmupS: Number(args.warmup),
      delays: zeroDelay ? 'zero' : '0.5-5 s',
    },
    createPayment: {
      offeredPerSecond: plan.rate,
      achievedPerSecond: main.achievedPerSecond,
      latencyMs: main.latencyMs,
      acceptedLatencyMs: main.acceptedLatencyMs,
      refused: main.refused,
      /** The gateway's own count of those refusals, by the load reading that was over its limit. */
      refusedBy: gatewayReadings?.refusedBy,
      /** Where the accepted calls' time went inside the gateway, step by step (gateway-readings.ts). */
      stagesMs: gatewayReadings?.stagesMs,
      errors: main.errors,
      answered: main.answered,
    },
    ...(sustained && {
      overload: {
        sustainedPerSecond: sustained.achievedPerSecond,
        offeredPerSecond: plan.rate,
        accepted: main.ok,
        refusedResourceExhausted: main.refused,
        failed: main.errors,
        answerLatencyMs: main.latencyMs,
        answeredWithinOneSecond: main.answeredWithinOneSecond,
        everyAcceptedPaymentFinished: true, // drain() throws otherwise
        reconcileClean: r.reconciled,
      },
    }),
    endToEnd: {
      ...run.completions,
      drainAfterLoadS: drainS,
      /** Every acknowledged payment over the time until the last one was terminal: robust when the DB sampling lags. */
      overallPerSecond: Math.round(main.ok / (plan.durationS + drainS)),
    },
    statusPush: { subscribers: main.subscribersConnected, pushes: main.pushes, latencyMs: main.pushLatencyMs },
    resources,
    ceiling: {
      plainApolloPerSecond: baseline.achievedPerSecond,
      gatewayCreatePaymentMaxPerSecond: gatewayMax.achievedPerSecond,
      fractionOfCeiling: Math.round((gatewayMax.achievedPerSecond / baseline.achievedPerSecond) * 100) / 100,
      /** createPayment with Kafka and Postgres but no paymaster or money-storage sharing the cores. */
      gatewayAlonePerSecond: gatewayAlone.achievedPerSecond,
      gatewayAloneFraction: Math.round((gatewayAlone.achievedPerSecond / baseline.achievedPerSecond) * 100) / 100,
    },
    /** Per second since the load began, until the last payment was terminal (see RunSecond in timeline.ts). */
    timeline: runTimeline(run.requests.timeline ?? [], run.completedPerSecond, main.pushTimeline),
  };
}

function writeReport(report: ReturnType<typeof buildReport>): void {
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `${report.at.replace(/[:.]/g, '-')}.json`);
  const chart = file.replace(/\.json$/, '.svg');
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(chart, renderChart(report));
  printReport(report);
  print(`written to ${path.relative(PROJECT_ROOT, file)}, chart ${path.relative(PROJECT_ROOT, chart)}`);
}

let loadPid: number | undefined;

/** A load process; for a watcher, `connected` and `ready` follow its announcements (see load-generator). */
function runLoad(
  plan: LoadPlan,
  pushGraceMs: number,
): { connected: Promise<void>; ready: Promise<void>; go: () => void; result: Promise<LoadResult> } {
  // A file, not an env var: a thousand tokens exceed what exec allows in the environment.
  const planFile = path.join(os.tmpdir(), `load-plan-${process.pid}-${plan.mode}-${plan.subscriberOffset}.json`);
  fs.writeFileSync(planFile, JSON.stringify(plan));
  const child = spawn(process.execPath, [path.join(__dirname, 'load-generator.js')], {
    env: { ...process.env, LOAD_PLAN_FILE: planFile, LOAD_PUSH_GRACE_MS: String(pushGraceMs) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (plan.mode !== 'watch') loadPid = child.pid;
  let out = '';
  const announced = (line: string): Promise<void> =>
    new Promise((resolve) => {
      if (plan.mode !== 'watch') resolve();
      child.stdout.on('data', () => out.split('\n').includes(line) && resolve());
    });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult)
        : reject(new Error(`load generator exited with ${code}`)),
    );
  });
  // A watcher counts its pushes from `go`: the load's start.
  const go = (): void => void child.stdin?.end('go\n');
  return { connected: announced('connected'), ready: announced('ready'), go, result };
}

/**
 * Subscribers split over `processes` watchers. Once all are connected, one payment per user
 * proves every subscription live; resolves when every subscriber has seen its push and those
 * payments have finished, so that neither the connections nor their pushes fall into the load's
 * CPU or its first seconds (with 10,000 subscribers they held createPayment's p50 above a second
 * for the first four). Each watcher counts from its `go`.
 */
async function startWatchers(
  plan: LoadPlan,
  processes: number,
  pushGraceMs: number,
  sql: pg.Pool,
): Promise<Array<ReturnType<typeof runLoad>>> {
  if (plan.subscribers === 0) return [];
  const share = Math.ceil(plan.subscribers / processes);
  const shards = Array.from({ length: processes }, (_, k) => ({
    offset: k * share,
    count: Math.max(0, Math.min(share, plan.subscribers - k * share)),
  }))
    .filter((shard) => shard.count > 0)
    .map((shard) =>
      runLoad({ ...plan, mode: 'watch', subscribers: shard.count, subscriberOffset: shard.offset }, pushGraceMs),
    );
  await Promise.all(shards.map((w) => w.connected));
  print(`${plan.subscribers} subscribers connected; one payment per user to see every subscription live...`);
  await forEachUser(plan.url, plan.tokens, (client) => payHonouringRetryAfter(client, 'bench-warm-up'));
  await withTimeout(Promise.all(shards.map((w) => w.ready)), 120_000, 'a push to every subscriber');
  await drain(sql);
  return shards;
}

/** The watchers' pushes into the load's result; `pushTimeline` only when there were watchers. */
function mergePushes(
  requests: LoadResult,
  watchers: LoadResult[],
): LoadResult & { pushTimeline: PushSecond[] | undefined } {
  const samples = watchers.flatMap((w) => w.pushSamples ?? []);
  const series = watchers.map((w) => ({
    startedAtMs: w.startedAtMs ?? 0,
    seconds: w.pushSeconds ?? [],
    samples: w.pushSamples ?? [],
  }));
  return {
    ...requests,
    subscribersConnected: watchers.reduce((n, w) => n + w.subscribersConnected, 0),
    pushes: samples.length,
    pushLatencyMs: summarize(samples),
    pushTimeline: watchers.length > 0 ? mergePushSeconds(series, requests.startedAtMs ?? 0) : undefined,
  };
}

async function runBaseline(plan: LoadPlan, seconds: number): Promise<LoadResult> {
  const server = spawn(process.execPath, [path.join(__dirname, 'baseline-server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    server.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  try {
    return await closedLoop({ ...plan, url: `http://127.0.0.1:${port}`, request: 'ping' }, seconds);
  } finally {
    server.kill('SIGTERM');
  }
}

/**
 * One createPayment as a well-behaved client makes it: refused at capacity (the gateway's slow
 * start refuses a burst on an idle pipeline), it waits the Retry-After and asks again with the
 * same idempotency key.
 */
async function payHonouringRetryAfter(client: GatewayClient, idempotencyKey: string): Promise<void> {
  for (;;) {
    const response = await client.request(CreatePayment, { input: { amount: 1, currency: 'EUR', idempotencyKey } });
    const error = response.errors?.[0];
    if (!error) return;
    if (error.extensions?.code !== 'RESOURCE_EXHAUSTED') throw new Error(`a payment failed: ${JSON.stringify(error)}`);
    await sleep(1000 * Number(error.extensions.retryAfterSeconds ?? 1));
  }
}

/** One call per user through the public API, 50 at a time. */
async function forEachUser(
  url: string,
  tokens: string[],
  call: (client: GatewayClient) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < tokens.length; i += 50)
    await Promise.all(tokens.slice(i, i + 50).map((t) => call(new GatewayClient(url, t))));
}

/** Every user deposits, and the benchmark waits until money-storage has booked all of it. */
async function seed(system: PaymentSystem, tokens: string[], sql: pg.Pool): Promise<void> {
  print(`seeding ${tokens.length} users with deposits...`);
  await forEachUser(system.url('gateway'), tokens, (client) =>
    client.data(Deposit, { amount: 1_000_000_000, currency: 'EUR', idempotencyKey: 'bench-seed' }),
  );
  await waitFor(
    'every deposit',
    async () => {
      const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM money.accounts');
      return rows[0]!.n >= tokens.length ? true : undefined;
    },
    120_000,
    500,
  );
}

/** Terminal payments counted once a second, for the end-to-end completion rate. */
function trackCompletions(sql: pg.Pool) {
  const readings: CountAt[] = [];
  const t0 = Date.now();
  // A failed reading is a gap in the series; left unhandled it would end the bench (and hide why).
  const read = (): Promise<unknown> =>
    terminalCount(sql).then(
      (count) => readings.push({ atMs: Date.now(), count }),
      () => undefined,
    );
  const timer = setInterval(() => void read(), 1000);
  timer.unref();
  return {
    /** Completions per second once the pipeline is full (after the first 10 s), to the end of the load. */
    summary: (durationS: number) => {
      const points = readings.map((r) => ({ t: (r.atMs - t0) / 1000, terminal: r.count }));
      const window = points.filter((p) => p.t >= Math.min(10, durationS / 3) && p.t <= durationS);
      const first = window[0];
      const last = window.at(-1);
      const perSecond =
        first && last && last.t > first.t ? Math.round((last.terminal - first.terminal) / (last.t - first.t)) : 0;
      return {
        completedPerSecond: perSecond,
        windowS: first && last ? Math.round(last.t - first.t) : 0,
        terminalAtEndOfLoad: last?.terminal ?? 0,
      };
    },
    /** Stops reading, after a last one; completions per second since `loadStartedAtMs`. */
    stop: async (loadStartedAtMs: number) => {
      clearInterval(timer);
      await read();
      return perSecondIncrease(readings, loadStartedAtMs);
    },
  };
}

/** `npm run reconcile` against the benchmarked system: true when every payment matches the ledger. */
async function reconcileClean(system: PaymentSystem): Promise<boolean> {
  const script = path.join(PROJECT_ROOT, 'dist', 'tools', 'reconcile', 'main.js');
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...system.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  child.stdout.on('data', (d: Buffer) => (report += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  // Its summary names each violation: worth reading only when there is one.
  if (code !== 0) print(report.slice(0, 4000));
  return code === 0;
}

const terminalCount = async (sql: pg.Pool): Promise<number> =>
  (
    await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM gateway.payments WHERE status = ANY($1)', [
      TERMINAL_STATUSES,
    ])
  ).rows[0]!.n;

/** The embedded Postgres' postmaster, whose descendants are its backends; undefined for a DATABASE_URL server (then not counted). */
function postmasterPid(dataRoot: string): number | undefined {
  try {
    return (
      Number(fs.readFileSync(path.join(dataRoot, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined
    );
  } catch {
    return undefined;
  }
}

/** Seconds until every acknowledged payment is terminal after the load stops. */
async function drain(sql: pg.Pool): Promise<number> {
  const t0 = Date.now();
  await waitFor(
    'every payment to finish',
    async () => {
      const { rows } = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM gateway.payments WHERE status IN ('NEW','CREATED','PROCESSING')`,
      );
      return rows[0]!.n === 0 ? true : undefined;
    },
    300_000,
    500,
  );
  return Math.round((Date.now() - t0) / 100) / 10;
}

function printReport(r: {
  cpuMsPerPayment: number;
  cpuCountedOver: { payments: number; processes: string[] };
  createPayment: {
    offeredPerSecond: number;
    achievedPerSecond: number;
    latencyMs: { p50: number; p95: number; p99: number; max: number };
    acceptedLatencyMs: { p50: number; p99: number };
    refused: number;
    refusedBy: GatewayReadings['refusedBy'] | undefined;
    stagesMs: GatewayReadings['stagesMs'] | undefined;
    errors: number;
  };
  overload?: {
    sustainedPerSecond: number;
    accepted: number;
    refusedResourceExhausted: number;
    failed: number;
    answeredWithinOneSecond?: number;
    reconcileClean?: boolean;
  };
  endToEnd: { completedPerSecond: number; drainAfterLoadS: number; overallPerSecond: number };
  statusPush: { subscribers: number; pushes: number; latencyMs: { p50: number; p99: number } };
  resources: Record<string, { peakRssMb: number; avgCores: number }>;
  ceiling: {
    plainApolloPerSecond: number;
    gatewayCreatePaymentMaxPerSecond: number;
    fractionOfCeiling: number;
    gatewayAlonePerSecond: number;
    gatewayAloneFraction: number;
  };
}): void {
  const c = r.createPayment;
  print('');
  print(
    `CPU per payment    ${r.cpuMsPerPayment} ms over ${r.cpuCountedOver.payments} payments (${r.cpuCountedOver.processes.join(', ')})`,
  );
  print(
    `createPayment      offered ${c.offeredPerSecond}/s, accepted ${c.achievedPerSecond}/s, p50 ${c.latencyMs.p50} ms, p95 ${c.latencyMs.p95} ms, p99 ${c.latencyMs.p99} ms, max ${c.latencyMs.max} ms (accepted alone: p50 ${c.acceptedLatencyMs.p50} ms, p99 ${c.acceptedLatencyMs.p99} ms), refused ${c.refused}${refusalReasons(c.refusedBy)}, errors ${c.errors}`,
  );
  print(`  in the gateway   ${stageTimes(c.stagesMs)}`);
  const o = r.overload;
  if (o)
    print(
      `overload           3 x ${o.sustainedPerSecond}/s sustained: ${o.accepted} accepted, ${o.refusedResourceExhausted} refused (RESOURCE_EXHAUSTED), ${o.failed} failed; ${((o.answeredWithinOneSecond ?? 0) * 100).toFixed(2)}% answered within 1 s; all accepted finished; reconcile ${o.reconcileClean ? 'clean' : 'NOT clean'}`,
    );
  print(
    `end to end         ${r.endToEnd.overallPerSecond} completed/s overall (${r.endToEnd.completedPerSecond}/s sampled in the window), drained ${r.endToEnd.drainAfterLoadS} s after the load`,
  );
  print(
    `status push        ${r.statusPush.subscribers} subscribers, ${r.statusPush.pushes} pushes, p50 ${r.statusPush.latencyMs.p50} ms, p99 ${r.statusPush.latencyMs.p99} ms`,
  );
  for (const [name, u] of Object.entries(r.resources))
    print(`${name.padEnd(18)} peak RSS ${u.peakRssMb} MB, ${u.avgCores} cores`);
  print(
    `HTTP ceiling       plain Apollo ${r.ceiling.plainApolloPerSecond}/s, createPayment max ${r.ceiling.gatewayCreatePaymentMaxPerSecond}/s (${r.ceiling.fractionOfCeiling} of it), the gateway alone ${r.ceiling.gatewayAlonePerSecond}/s (${r.ceiling.gatewayAloneFraction} of it)`,
  );
}

main().catch((e) => {
  print(`bench failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});

function refusalReasons(by: GatewayReadings['refusedBy'] | undefined): string {
  if (!by) return ' (reasons unknown: the gateway did not answer /metrics)';
  const parts = Object.entries(by).map(([signal, n]) => `${signal} ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function stageTimes(stages: GatewayReadings['stagesMs'] | undefined): string {
  if (!stages) return 'steps unknown: the gateway did not answer /metrics';
  if (Object.keys(stages).length === 0) return 'no call was admitted';
  const bound = (ms: number | null) => (ms === null ? 'past the last bucket' : `<= ${ms} ms`);
  return Object.entries(stages)
    .map(([stage, t]) => `${stage} mean ${t.mean} ms (p50 ${bound(t.p50AtMost)}, p99 ${bound(t.p99AtMost)})`)
    .join(', ');
}
