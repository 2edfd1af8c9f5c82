import pg from 'pg';
import { z } from 'zod';
import { commonShape, env, loadConfig } from '../../common/config';
import { createLogger } from '../../common/logger';
import { formatReport, reconcile, UNFINISHED_AFTER_SECONDS } from './checks';

/**
 * `npm run reconcile`: checks payments against the ledger. A tool, not part of either service: it
 * is the one program allowed to read both schemas (gateway and money). Prints a summary, then the JSON report
 * (`--json` prints only the JSON). Exits 1 on any violation, 2 when it could not check at all.
 */
async function main(): Promise<number> {
  // Only the databases: a check run by hand needs no service secrets.
  const config = loadConfig({
    /** The money schema's database. */
    DATABASE_URL: commonShape.DATABASE_URL,
    /** The gateway schema's database, when it is another one. */
    GATEWAY_DATABASE_URL: z.string().url().optional(),
    /** A payment short of a terminal status for longer than this is reported as not finished. */
    RECONCILE_UNFINISHED_AFTER_SECONDS: env.int(UNFINISHED_AFTER_SECONDS, 1),
  });
  const moneyPool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
  const gatewayUrl = config.GATEWAY_DATABASE_URL ?? config.DATABASE_URL;
  const gatewayPool =
    gatewayUrl === config.DATABASE_URL ? moneyPool : new pg.Pool({ connectionString: gatewayUrl, max: 2 });
  try {
    const report = await reconcile(moneyPool, gatewayPool, config.RECONCILE_UNFINISHED_AFTER_SECONDS);
    if (!process.argv.includes('--json')) process.stdout.write(`${formatReport(report)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await moneyPool.end();
    if (gatewayPool !== moneyPool) await gatewayPool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    createLogger('reconcile').fatal({ err: e }, 'reconcile could not run');
    process.exit(2);
  },
);
