import { randomBytes } from 'node:crypto';

/** Fresh secrets for one test system: tests never read or create the work tree's secrets file. */
export const testSecrets = (): { JWT_SECRET: string; INTERNAL_SERVICE_TOKEN: string } => ({
  JWT_SECRET: randomBytes(32).toString('base64url'),
  INTERNAL_SERVICE_TOKEN: randomBytes(32).toString('base64url'),
});
