/**
 * A bench's command line: `--help` prints the usage, and an unknown or malformed option is one
 * line and the usage on stderr with exit code 2, not parseArgs' stack trace.
 */
export function parseCommandLine<T>(parse: () => T, usage: string): T {
  if (process.argv.slice(2).includes('--help')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parse();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}
