import { z } from 'zod';
import { ConfigError, commonShape, env, loadConfig } from '../../common/config';

const paymasterShape = {
  ...commonShape,
  PORT: env.port(4001),
  /** Shared by every paymaster process: Kafka splits the `payments` partitions among them. */
  PAYMASTER_GROUP_ID: z.string().min(1).default('paymaster'),
  /** Each stage waits a uniform random delay in [MIN, MAX]. */
  PAYMASTER_DELAY_MIN_MS: env.int(500),
  PAYMASTER_DELAY_MAX_MS: env.int(5000),
  /** How long to wait for money-storage's answer to a debit before giving up and compensating. */
  PAYMASTER_RESULT_DEADLINE_MS: env.int(30_000, 1),
  /**
   * A settle or a compensation is never given up on (the payment's status depends on its answer);
   * it is sent again this often until answered, in case an answer was lost.
   */
  PAYMASTER_RESEND_INTERVAL_MS: env.int(30_000, 100),
  /** Payments held at once; the consumer pauses when full, which bounds memory. */
  PAYMASTER_MAX_IN_FLIGHT: env.int(20_000, 1),
  /**
   * Stage delays end on the boundaries of this tick, so the payments whose stage ends within one
   * tick publish in one batch (stage-clock.ts); 0 times each to the millisecond.
   */
  PAYMASTER_STAGE_TICK_MS: env.int(20, 0, 1000),
  /** Publishes wait this long to share one request with others. */
  PAYMASTER_PUBLISH_LINGER_MS: env.int(5, 0),
  /** SIGTERM to exit, at most. */
  PAYMASTER_SHUTDOWN_GRACE_MS: env.int(15_000, 1000),
};

export type PaymasterConfig = ReturnType<typeof loadPaymasterConfig>;

export function loadPaymasterConfig(e: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(paymasterShape, e);
  if (config.PAYMASTER_DELAY_MIN_MS > config.PAYMASTER_DELAY_MAX_MS) {
    throw new ConfigError([
      `PAYMASTER_DELAY_MIN_MS: must not exceed PAYMASTER_DELAY_MAX_MS (got ${config.PAYMASTER_DELAY_MIN_MS} > ${config.PAYMASTER_DELAY_MAX_MS})`,
    ]);
  }
  return config;
}
