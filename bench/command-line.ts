/**
 * A bench's command line: `--help` prints the usage, and an unknown or malformed option is one
 * line and the usage on stderr with exit code 2, not parseArgs' stack trace. The options named in
 * `numeric` must be non-negative numbers: `--rate 100..300` would otherwise run as NaN.
 */
export function parseCommandLine<T extends { values: Record<string, unknown> }>(
  parse: () => T,
  usage: string,
  numeric: readonly string[] = [],
): T {
  if (process.argv.slice(2).includes('--help')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    const parsed = parse();
    for (const name of numeric) {
      const value = parsed.values[name];
      if (typeof value === 'string' && !/^[0-9]+(\.[0-9]+)?$/.test(value))
        throw new Error(`--${name} must be a non-negative number, not '${value}'`);
    }
    return parsed;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}
