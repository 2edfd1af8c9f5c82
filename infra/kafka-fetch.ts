import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * The first `npm start` fetches the broker's jars with Maven, which takes a while on a slow link:
 * this says what is happening and how far along it is, and turns a missing tool into the command
 * that installs it.
 */
const run = promisify(execFile);
/** Tools are looked up on this process's PATH as it is now, even where process.env was replaced (jest does). */
const currentEnv = (): { env: NodeJS.ProcessEnv } => ({ env: process.env });

/** What the broker's jars weigh, for the "how long will this take" line; measured on 4.4.0. */
const APPROX_JARS_MB = 45;
const PROGRESS_EVERY_MS = 5000;

export const INSTALL_JAVA = 'install Java 17+ (apt-get install openjdk-17-jre-headless)';
export const INSTALL_MAVEN = 'install Maven 3 (apt-get install maven)';

/** The major version in `java -version`'s banner (`openjdk version "17.0.15"`, `"1.8.0_392"` → 8). */
export function javaMajor(banner: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(banner);
  if (!match) return undefined;
  return match[1] === '1' ? Number(match[2]) : Number(match[1]);
}

/** Fails with the install command when `java` is missing or older than 17. */
export async function requireJava(): Promise<void> {
  const { stderr } = await run('java', ['-version'], currentEnv()).catch((e: NodeJS.ErrnoException) => {
    throw new Error(
      e.code === 'ENOENT'
        ? `the Kafka broker needs Java, which is not on PATH: ${INSTALL_JAVA}`
        : `java -version failed: ${e.message}`,
    );
  });
  const major = javaMajor(stderr);
  if (major !== undefined && major < 17)
    throw new Error(`the Kafka broker needs Java 17 or later, found ${major}: ${INSTALL_JAVA}`);
}

/** Megabytes in a Maven `Downloaded from central: <url> (1.2 MB at 3 MB/s)` line; undefined for any other line. */
export function downloadedMb(line: string): number | undefined {
  const match = /^(?:\[INFO\] )?Downloaded from [^:]+: \S+ \(([\d.]+) (B|kB|MB|GB)/.exec(line);
  if (!match) return undefined;
  const scale = { B: 1 / 1_000_000, kB: 1 / 1000, MB: 1, GB: 1000 }[match[2] as 'B' | 'kB' | 'MB' | 'GB'];
  return Number(match[1]) * scale;
}

/** Runs Maven on `pom` to copy the broker's jars, reporting progress through `say`. */
export async function fetchKafkaJars(pom: string, version: string, say: (line: string) => void): Promise<void> {
  say(`fetching Apache Kafka ${version} jars with Maven (first start only, ~${APPROX_JARS_MB} MB)...`);
  const started = Date.now();
  const seconds = (): number => Math.round((Date.now() - started) / 1000);
  let files = 0;
  let mb = 0;
  const tail: string[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const size = downloadedMb(line);
    if (size !== undefined) [files, mb] = [files + 1, mb + size];
  };
  const timer = setInterval(
    () => say(`  ... ${files} files, ${mb.toFixed(1)} MB so far (${seconds()} s)`),
    PROGRESS_EVERY_MS,
  );
  try {
    await runMaven(['-B', '-f', pom, 'dependency:copy-dependencies'], onLine, tail);
  } finally {
    clearInterval(timer);
  }
  say(`done in ${seconds()} s (${files} files, ${mb.toFixed(1)} MB downloaded)`);
}

function runMaven(args: string[], onLine: (line: string) => void, tail: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { ...currentEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const split = (d: Buffer): void => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach((l) => onLine(l.trimEnd()));
    };
    child.stdout.on('data', split);
    child.stderr.on('data', split);
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'ENOENT'
            ? `fetching the Kafka broker needs Maven, which is not on PATH: ${INSTALL_MAVEN}`
            : e.message,
        ),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      reject(
        new Error(
          `Maven could not fetch the Kafka broker (exit ${code}); check access to Maven Central (repo.maven.apache.org). Its last lines:\n${tail.join('\n')}`,
        ),
      );
    });
  });
}
