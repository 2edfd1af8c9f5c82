import { z } from 'zod';
import { env, loadConfig } from '../../common/config';
import { secretsShape, withSecrets } from '../../common/secrets';
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_MAX_TTL_SECONDS,
  DEFAULT_OPERATOR_MAX_TTL_SECONDS,
  type TokenPolicy,
} from './auth';

/** Beyond this a WebSocket's expiry timer would overflow setTimeout (~24.8 days); a week is plenty. */
const LONGEST_TTL_SECONDS = 7 * 86_400;

/** How user tokens are signed and checked: shared by the gateway and `npm run token`. */
export const tokenShape = {
  JWT_SECRET: secretsShape.JWT_SECRET,
  /** When set, tokens must carry this `iss` (and `npm run token` signs it in). */
  JWT_ISSUER: z.string().min(1).optional(),
  /** When set, tokens must carry this `aud` (and `npm run token` signs it in). */
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_MAX_TTL_SECONDS: env.int(DEFAULT_MAX_TTL_SECONDS, 60, LONGEST_TTL_SECONDS),
  /** The same for a token granting `operator` (who may credit accounts), when shorter. */
  JWT_OPERATOR_MAX_TTL_SECONDS: env.int(DEFAULT_OPERATOR_MAX_TTL_SECONDS, 60, LONGEST_TTL_SECONDS),
  JWT_CLOCK_TOLERANCE_SECONDS: env.int(DEFAULT_CLOCK_TOLERANCE_SECONDS, 0, 300),
};

export type TokenConfig = z.infer<z.ZodObject<typeof tokenShape>>;

export const loadTokenConfig = (e: NodeJS.ProcessEnv = process.env): TokenConfig =>
  loadConfig(tokenShape, withSecrets(e, tokenShape));

export const tokenPolicy = (c: TokenConfig): TokenPolicy => ({
  secret: c.JWT_SECRET,
  issuer: c.JWT_ISSUER,
  audience: c.JWT_AUDIENCE,
  maxTtlSeconds: c.JWT_MAX_TTL_SECONDS,
  operatorMaxTtlSeconds: c.JWT_OPERATOR_MAX_TTL_SECONDS,
  clockToleranceSeconds: c.JWT_CLOCK_TOLERANCE_SECONDS,
});
