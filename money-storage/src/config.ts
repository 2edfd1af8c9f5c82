import { z } from 'zod';
import { commonShape, env, loadConfig } from '../../common/config';

export const moneyStorageShape = {
  ...commonShape,
  PORT: env.port(4002),
  GATEWAY_URL: z.string().url().default('http://127.0.0.1:4000'),
};

export type MoneyStorageConfig = ReturnType<typeof loadMoneyStorageConfig>;
export const loadMoneyStorageConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(moneyStorageShape, e);
