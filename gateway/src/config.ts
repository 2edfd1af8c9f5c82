import { z } from 'zod';
import { commonShape, ConfigError, env, internalListenerShape, loadConfig } from '../../common/config';
import { secretsShape, withSecrets } from '../../common/secrets';
import type { AdmissionLimits } from './admission';
import { isOrigin } from './http/cors';
import { tokenShape } from './token-config';

const gatewayShape = {
  ...commonShape,
  ...tokenShape,
  INTERNAL_SERVICE_TOKEN: secretsShape.INTERNAL_SERVICE_TOKEN,
  PORT: env.port(4000),
  /** Connections waiting to be accepted on the public port; a burst beyond it waits for the clients' SYN retries (seconds). */
  LISTEN_BACKLOG: env.int(4096, 1),
  /** The internal API (money-storage, operators) listens apart from the public port. */
  ...internalListenerShape(4003),
  /** Money-storage's internal API (balances, ledger). */
  MONEY_STORAGE_URL: z.string().url().default('http://127.0.0.1:4004'),
  /**
   * How long createPayment waits for the broker's ack before answering NEW. At most 10 s: the
   * producer gives a send five times this, and a sweep holds its claimed rows that long, inside
   * the minute after which Postgres ends an idle transaction (common/db.ts).
   */
  PUBLISH_TIMEOUT_MS: env.int(1000, 1, 10_000),
  /**
   * How long a starting gateway waits for Kafka (its topics, its consumers joined) before it
   * serves without it, createPayment answering NEW, and goes on trying (see kafka-side.ts).
   */
  KAFKA_START_WAIT_MS: env.int(10_000, 0),
  OUTBOX_RELAY_INTERVAL_MS: env.int(500, 10),
  BODY_LIMIT_BYTES: env.int(100_000, 1024),
  GRAPHQL_MAX_DEPTH: env.int(8, 2),
  GRAPHQL_MAX_COST: env.int(1000, 10),
  /**
   * The cost limit of a subscription, whose selection runs again for every event it hears: a
   * status event has four fields, and 998 aliases of one ran 1.25 ms and kept 48 KB per event.
   */
  GRAPHQL_MAX_SUBSCRIPTION_COST: env.int(20, 2),
  /** Points per user per minute over every operation (a read costs 1, a write 2); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: env
    .int(1200)
    .refine((v) => v === 0 || v >= 2, 'must be 0 (off) or at least 2, what one write costs'),
  /**
   * Largest self-service deposit, in minor units; 0 turns them off (then only an operator's
   * creditAccount brings money in). Defaults to 1,000,000 when NODE_ENV is development or test, else 0.
   */
  SELF_DEPOSIT_MAX: z.coerce.number().int().min(0).optional(),
  /** Self-service deposits per user per minute. */
  SELF_DEPOSITS_PER_MINUTE: env.int(10, 1),
  /** How long a user's ACTIVE/BLOCKED status is trusted before it is read again: how late a block from another replica bites. */
  USER_STATUS_CACHE_MS: env.int(2000, 100),
  WS_MAX_SOCKETS_PER_USER: env.int(10, 1),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: env.int(10, 1),
  /** Subscribe messages per user per minute across their sockets; 0 turns the limit off. */
  WS_SUBSCRIBES_PER_MINUTE: env.int(120),
  GATEWAY_GROUP_ID: z.string().default('gateway-status-writer'),
  /** The paymaster's consumer group (the same variable the paymaster reads): its lag is a load signal. */
  PAYMASTER_GROUP_ID: z.string().min(1).default('paymaster'),
  /** Admission (see admission.ts): createPayment is refused with RESOURCE_EXHAUSTED while a reading is above its limit; 0 ignores it. */
  ADMISSION_MAX_EVENT_LOOP_DELAY_MS: env.int(500, 0),
  /** Percent of a second the event loop may be busy while refusing an excess (see loop-saturation.ts); 0 or 100 never refuses. */
  ADMISSION_MAX_EVENT_LOOP_UTILIZATION_PERCENT: env.int(95, 0, 100),
  ADMISSION_MAX_WRITE_QUEUE_MS: env.int(200, 0),
  ADMISSION_MAX_OUTBOX_BACKLOG: env.int(20_000, 0),
  ADMISSION_MAX_BACKLOG_SECONDS: env.int(60, 0),
  /** How often the sampled readings (event loop, outbox, paymaster lag) are taken. */
  ADMISSION_SAMPLE_MS: env.int(1000, 50),
  /**
   * The latency (p90, ms) createPayment is held to by limiting how many are in flight at once
   * (see adaptive-limit.ts); 0 turns the limit off. 150, not 250: at 3x what the system sustains
   * the p99 of all answers halved, for as many accepted (docs/performance.md, eighth round).
   */
  ADMISSION_TARGET_LATENCY_MS: env.int(150, 0),
  /**
   * Slow start (see pipeline-pace.ts): new payments per second are held to twice what the
   * pipeline finished per second over the last 5 s (1.2 times after a sign of capacity) and to 1.2
   * times the second before, and to at least this many; 0 turns it off.
   */
  ADMISSION_PACE_FLOOR_PER_SECOND: env.int(100, 0),
  /** The GraphQL explorer at /explorer (and GET /graphql from a browser); on by default only with NODE_ENV development or test. */
  EXPLORER: z.enum(['on', 'off']).optional(),
  /** Browser origins allowed to call GraphQL and REST cross-origin, comma-separated; empty: none. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine(
      (origins) => origins.every(isOrigin),
      'each entry must be an origin such as https://app.example.com (scheme, host, optional port; no path or trailing slash)',
    ),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export const admissionLimits = (c: GatewayConfig): AdmissionLimits => ({
  eventLoopDelayMs: c.ADMISSION_MAX_EVENT_LOOP_DELAY_MS,
  writeQueueWaitMs: c.ADMISSION_MAX_WRITE_QUEUE_MS,
  outboxBacklog: c.ADMISSION_MAX_OUTBOX_BACKLOG,
  paymentsBacklogSeconds: c.ADMISSION_MAX_BACKLOG_SECONDS,
});

export function loadGatewayConfig(e: NodeJS.ProcessEnv = process.env) {
  const raw = loadConfig(gatewayShape, withSecrets(e, gatewayShape));
  // Money-storage holds the service token: were it the signing key, it could sign operator tokens.
  if (raw.INTERNAL_SERVICE_TOKEN === raw.JWT_SECRET)
    throw new ConfigError(['INTERNAL_SERVICE_TOKEN: must differ from JWT_SECRET']);
  // Money from nowhere, a signed token for anyone who opens the explorer, introspection and
  // errors' internals only where someone asked for a development or test setup, never by
  // omission (a deploy that forgot NODE_ENV behaves as production).
  const production = raw.NODE_ENV === 'production';
  return {
    ...raw,
    production,
    SELF_DEPOSIT_MAX: raw.SELF_DEPOSIT_MAX ?? (production ? 0 : 1_000_000),
    EXPLORER: (raw.EXPLORER ?? (production ? 'off' : 'on')) === 'on',
    explorerSignsIn: !production,
  };
}
