import path from 'node:path';
import { applyMigrations } from '../../common/db';
import { PROJECT_ROOT } from '../../common/project-root';

/** Brings the `gateway` schema up to the committed migrations; safe to run from several replicas at once. */
export const migrateGatewayDb = (url: string): Promise<void> =>
  applyMigrations(url, path.join(PROJECT_ROOT, 'gateway', 'db', 'migrations'), 'gateway');
