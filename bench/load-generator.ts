import fs from 'node:fs';
import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { sleep } from '../common/sleep';
import { OVERLOAD_RETRY_AFTER_SECONDS } from '../gateway/src/admission';
import { summarize, type LatencySummary } from './stats';
import { LoadTimeline, secondOf, type LoadSecond, type Outcome } from './timeline';

/**
 * The load: a separate process so it does not share an event loop with what it measures.
 * Reads its plan from the JSON file named by LOAD_PLAN_FILE and prints one JSON result line.
 *
 * - open loop: `createPayment` (or the baseline's `ping`) requests are sent on a fixed schedule whatever the answers; latency counts from the
 *   scheduled instant, so a slow server shows as latency, not as a lower offered rate
 * - closed loop: `concurrency` requests in flight back to back, to find a maximum; a refused
 *   request's worker waits the Retry-After the gateway asks for, as its clients should
 * - watch: only graphql-ws subscribers, for `durationS` plus the push grace from a `go` line on
 *   stdin (the load's start; pushes before it are not counted); several such
 *   processes share the subscribers, so no single client process serialises all their pushes
 */
export interface LoadPlan {
  url: string;
  /** One bearer token per user; requests cycle through them. */
  tokens: string[];
  /** The user name of each token, same order (the REST facade's body names the payer). */
  userNames: string[];
  mode: 'open' | 'closed' | 'watch';
  rate: number;
  concurrency: number;
  durationS: number;
  /** Watchers only: how many subscribers this process holds. */
  subscribers: number;
  /** The first token a watcher's subscribers use, so shards spread over the users. */
  subscriberOffset: number;
  request: RequestKind;
  /** Connections to the gateway; requests beyond them queue in this process. */
  maxSockets: number;
}

/** createPayment through GraphQL or through the REST facade, or the baseline's trivial mutation. */
export type RequestKind = 'graphql' | 'rest' | 'ping';

export interface LoadResult {
  sent: number;
  /** Accepted: a payment (or the baseline's answer). */
  ok: number;
  /** Refused at once by admission: RESOURCE_EXHAUSTED (REST: 429 with Retry-After). */
  refused: number;
  errors: number;
  answered: Record<string, number>;
  latencyMs: LatencySummary;
  /** Of the accepted answers alone: refused ones are fast and, under overload, most of `latencyMs`. */
  acceptedLatencyMs: LatencySummary;
  /** The share of requests answered (either way) within a second: the overload target's bound. */
  answeredWithinOneSecond?: number;
  achievedPerSecond: number;
  subscribersConnected: number;
  pushes: number;
  pushLatencyMs: LatencySummary;
  /** A watcher's raw push latencies, merged by the parent into one distribution. */
  pushSamples?: number[];
  /** A watcher's: the second (since `startedAtMs`) each of `pushSamples` was received in, for the per-second merge. */
  pushSeconds?: number[];
  /**
   * Requests per second, keyed by the second (since `startedAtMs`) each was sent in, the
   * scheduled send time in open loop; latencies are null for a second with no requests.
   */
  timeline?: LoadSecond[];
  /** Epoch ms of second 0 of `timeline` / `pushSeconds`: the load's start, or a watcher's `ready`. */
  startedAtMs?: number;
}

interface RequestShape {
  path: string;
  body: (i: number) => string;
  /** The payment status answered (or 'OK', or REFUSED), null for a failure. */
  read: (statusCode: number, text: string, headers: http.IncomingHttpHeaders) => string | null;
}

const plan = JSON.parse(fs.readFileSync(process.env.LOAD_PLAN_FILE ?? '', 'utf8')) as LoadPlan;
const agent = new http.Agent({ keepAlive: true, maxSockets: plan.maxSockets });
const amount = (i: number): number => 1 + (i % 100);
const statusIn = (text: string): string => /"status":"(\w+)"/.exec(text)?.[1] ?? 'OK';
const REFUSED = 'RESOURCE_EXHAUSTED';
const refusal = /"code":"RESOURCE_EXHAUSTED"/;
const outcomeOf = (status: string | null): Outcome => {
  if (status === null) return 'error';
  return status === REFUSED ? 'refused' : 'ok';
};
// A refusal comes from the resolver (200, the error in the body) or, before GraphQL runs, as 429.
const graphqlAnswer = (code: number, text: string): string | null => {
  if ((code === 200 || code === 429) && refusal.test(text)) return REFUSED;
  return code !== 200 || /"errors"/.test(text) ? null : statusIn(text);
};

const REQUESTS: Record<RequestKind, RequestShape> = {
  graphql: {
    path: '/graphql',
    body: (i) =>
      JSON.stringify({
        query: 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }',
        variables: { input: { amount: amount(i), currency: 'EUR' } },
      }),
    read: graphqlAnswer,
  },
  rest: {
    path: '/api/payments',
    body: (i) =>
      JSON.stringify({ userName: plan.userNames[i % plan.userNames.length], amount: amount(i), currency: 'EUR' }),
    read: (code, text, headers) => {
      if (code === 429 && refusal.test(text) && headers['retry-after']) return REFUSED;
      return code === 201 ? statusIn(text) : null;
    },
  },
  ping: {
    path: '/graphql',
    body: (i) => JSON.stringify({ query: 'mutation($a: Int!) { ping(amount: $a) }', variables: { a: i } }),
    read: graphqlAnswer,
  },
};
const shape = REQUESTS[plan.request];
const target = new URL(plan.url);

function post(i: number): Promise<string | null> {
  const body = shape.body(i);
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: shape.path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${plan.tokens[i % plan.tokens.length]}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(shape.read(res.statusCode ?? 0, Buffer.concat(chunks).toString(), res.headers)));
      },
    );
    req.on('error', () => resolve(null));
    req.end(body);
  });
}

/** Connected clients only; sockets open in waves, since a burst of thousands overflows the listen backlog. */
async function subscribe(count: number, onPush: (ms: number, subscriber: number) => void): Promise<Client[]> {
  const clients: Client[] = [];
  const open = (i: number): Promise<void> => {
    const client = createClient({
      url: `${plan.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${plan.tokens[(plan.subscriberOffset + i) % plan.tokens.length]}` },
      onNonLazyError: () => undefined,
    });
    client.subscribe<{ myPaymentStatuses: { at: string } }>(
      { query: 'subscription { myPaymentStatuses { paymentId status at } }' },
      {
        next: (v) => v.data && onPush(Date.now() - Date.parse(v.data.myPaymentStatuses.at), i),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    return new Promise<void>((resolve) => {
      client.on('connected', () => {
        clients.push(client);
        resolve();
      });
      client.on('closed', () => resolve());
    });
  };
  for (let i = 0; i < count; i += 250)
    await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, k) => open(i + k)));
  return clients;
}

/**
 * `connected` once every socket is open; `ready` once every subscriber has had a push (the bench
 * creates a payment per user in between), which proves its subscription is live on the gateway.
 * Only pushes after `ready` are measured: the warm-up ones include subscription setup.
 */
async function watch(): Promise<void> {
  let pushLatencies: number[] = [];
  let pushSeconds: number[] = [];
  let readyAt = Date.now();
  const warm = new Set<number>();
  let clients: Client[] = [];
  await new Promise<void>((allWarm) => {
    void subscribe(plan.subscribers, (ms, subscriber) => {
      pushLatencies.push(ms);
      pushSeconds.push(secondOf(Date.now(), readyAt));
      warm.add(subscriber);
      if (warm.size === clients.length) allWarm();
    }).then((connected) => {
      clients = connected;
      process.stdout.write('connected\n');
    });
  });
  process.stdout.write('ready\n');
  // A bench that ends before `go` closes stdin: the watcher ends too, not holding its sockets for good.
  await new Promise<void>((go) => {
    const abandoned = (): never => process.exit(1);
    process.stdin.once('end', abandoned);
    process.stdin.once('data', () => {
      process.stdin.off('end', abandoned);
      go();
    });
  });
  pushLatencies = [];
  pushSeconds = [];
  readyAt = Date.now();
  await sleep(plan.durationS * 1000 + Number(process.env.LOAD_PUSH_GRACE_MS ?? 0));
  await Promise.all(clients.map((c) => Promise.resolve(c.dispose())));
  const none = summarize([]);
  const result: LoadResult = {
    sent: 0,
    ok: 0,
    refused: 0,
    errors: 0,
    answered: {},
    latencyMs: none,
    acceptedLatencyMs: none,
    achievedPerSecond: 0,
    subscribersConnected: clients.length,
    pushes: pushLatencies.length,
    pushLatencyMs: summarize(pushLatencies),
    pushSamples: pushLatencies,
    pushSeconds,
    startedAtMs: readyAt,
  };
  finish(result);
}

async function main(): Promise<void> {
  const latencies: number[] = [];
  const acceptedLatencies: number[] = [];
  const answered: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let refused = 0;
  let errors = 0;
  const timeline = new LoadTimeline();
  const t0 = performance.now();
  const record = (status: string | null, startedAt: number): void => {
    const ms = performance.now() - startedAt;
    latencies.push(ms);
    timeline.add(secondOf(startedAt, t0), outcomeOf(status), ms);
    if (status === null) errors += 1;
    else {
      if (status === REFUSED) refused += 1;
      else {
        ok += 1;
        acceptedLatencies.push(ms);
      }
      answered[status] = (answered[status] ?? 0) + 1;
    }
  };
  const end = t0 + plan.durationS * 1000;
  const inFlight = new Set<Promise<void>>();
  if (plan.mode === 'open') {
    const interval = 1000 / plan.rate;
    let next = t0;
    while (next < end) {
      while (next <= performance.now() && next < end) {
        const scheduled = next;
        const p = post(sent++).then((s) => record(s, scheduled));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        next += interval;
      }
      await sleep(1);
    }
  } else {
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        const startedAt = performance.now();
        const status = await post(sent++);
        record(status, startedAt);
        // Asking again at once measured a storm of refusals, not a maximum: each costs the
        // gateway an HTTP exchange, and the CPU they took held the limit down (7,274 refused and
        // 841 accepted in 10 s, with the pipeline running).
        if (status === REFUSED) await sleep(Math.min(OVERLOAD_RETRY_AFTER_SECONDS * 1000, end - performance.now()));
      }
    };
    await Promise.all(Array.from({ length: plan.concurrency }, worker));
  }
  await Promise.all(inFlight);
  const wallS = (performance.now() - t0) / 1000;
  // Pushes are the watchers' to count (mode `watch`).
  const result: LoadResult = {
    sent,
    ok,
    refused,
    errors,
    answered,
    latencyMs: summarize(latencies),
    acceptedLatencyMs: summarize(acceptedLatencies),
    answeredWithinOneSecond: Math.round((latencies.filter((ms) => ms <= 1000).length / sent) * 10_000) / 10_000,
    achievedPerSecond: Math.round(ok / wallS),
    subscribersConnected: 0,
    pushes: 0,
    pushLatencyMs: summarize([]),
    timeline: timeline.summary(),
    startedAtMs: performance.timeOrigin + t0,
  };
  agent.destroy();
  finish(result);
}

/**
 * The result is the last line of stdout. Exiting only once it is written: to a pipe the write is
 * asynchronous, and a watcher's line (every push latency) is megabytes that `exit` would cut short.
 */
function finish(result: LoadResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

void (plan.mode === 'watch' ? watch() : main());
