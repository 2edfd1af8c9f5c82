import { signToken } from './auth';
import { loadGatewayConfig } from './config';

/** `npm run token -- <userName>`: a token for local use, signed with the configured secret. */
const userName = process.argv[2];
if (!userName) {
  process.stderr.write('usage: npm run token -- <userName>\n');
  process.exit(2);
}
try {
  process.stdout.write(`${signToken(userName, loadGatewayConfig().JWT_SECRET)}\n`);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
