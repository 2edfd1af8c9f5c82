import path from 'node:path';
import { applyMigrations } from '../../common/db';
import { PROJECT_ROOT } from '../../common/project-root';

/** Brings the `money` schema up to the committed migrations; safe to run from several replicas at once. */
export const migrateMoneyDb = (url: string): Promise<void> =>
  applyMigrations(url, path.join(PROJECT_ROOT, 'money-storage', 'db', 'migrations'), 'money');
