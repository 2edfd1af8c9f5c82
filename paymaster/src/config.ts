import { z } from 'zod';
import { commonShape, env, loadConfig } from '../../common/config';

export const paymasterShape = {
  ...commonShape,
  PORT: env.port(4001),
  PAYMASTER_GROUP_ID: z.string().default('paymaster'),
  /** Each stage waits a uniform random delay in [MIN, MAX]. */
  PAYMASTER_DELAY_MIN_MS: env.int(500),
  PAYMASTER_DELAY_MAX_MS: env.int(5000),
};

export type PaymasterConfig = ReturnType<typeof loadPaymasterConfig>;
export const loadPaymasterConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(paymasterShape, e);
