import { execFileSync } from 'node:child_process';

const whichChromium = (): string | undefined => {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
};

/**
 * Debian's chromium for the browser tests, installed with apt the first time it is missing (CI
 * runs as root); nothing downloads a browser build from elsewhere. Fails loudly if it cannot.
 */
export function ensureChromium(): string {
  const present = whichChromium();
  if (present) return present;
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'pipe', timeout: 180_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'pipe',
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (e) {
    const output = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join('\n');
    throw new Error(
      `the browser tests need chromium and 'apt-get install -y chromium' failed (run it as root, or install chromium yourself): ${output ?? (e as Error).message}`,
    );
  }
  const installed = whichChromium();
  if (!installed) throw new Error("'apt-get install -y chromium' succeeded but no chromium is on PATH");
  return installed;
}
