import { z } from 'zod';
import { commonShape, env, loadConfig } from '../../common/config';

const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789';

const gatewayShape = {
  ...commonShape,
  PORT: env.port(4000),
  /** HS256 secret for user tokens. Only development and test fall back to a built-in one. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  MONEY_STORAGE_URL: z.string().url().default('http://127.0.0.1:4002'),
  /** How long createPayment waits for the broker's ack before answering NEW. */
  PUBLISH_TIMEOUT_MS: env.int(1000, 1),
  OUTBOX_RELAY_INTERVAL_MS: env.int(500, 10),
  BODY_LIMIT_BYTES: env.int(100_000, 1024),
  GRAPHQL_MAX_DEPTH: env.int(8, 2),
  GRAPHQL_MAX_COST: env.int(1000, 10),
  /** Points per user per minute over every operation (a read costs 1, a write 2); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: env.int(1200),
  /**
   * Largest self-service deposit, in minor units; 0 turns them off (then only an operator's
   * creditAccount brings money in). Defaults to 0 in production, 1,000,000 elsewhere.
   */
  SELF_DEPOSIT_MAX: z.coerce.number().int().min(0).optional(),
  /** Self-service deposits per user per minute. */
  SELF_DEPOSITS_PER_MINUTE: env.int(10, 1),
  GATEWAY_GROUP_ID: z.string().default('gateway-status-writer'),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(e: NodeJS.ProcessEnv = process.env) {
  const raw = loadConfig(gatewayShape, e);
  const production = raw.NODE_ENV === 'production';
  if (production && !raw.JWT_SECRET) {
    throw new Error('JWT_SECRET must be set when NODE_ENV=production (at least 32 characters)');
  }
  if (production && raw.INTERNAL_SERVICE_TOKEN === commonShape.INTERNAL_SERVICE_TOKEN.parse(undefined)) {
    throw new Error('INTERNAL_SERVICE_TOKEN must be set to a non-default value when NODE_ENV=production');
  }
  return { ...raw, JWT_SECRET: raw.JWT_SECRET ?? DEV_JWT_SECRET, production, SELF_DEPOSIT_MAX: raw.SELF_DEPOSIT_MAX ?? (production ? 0 : 1_000_000) };
}
