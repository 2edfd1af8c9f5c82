import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../common/project-root';
import { waitFor } from '../common/wait-for';

export const SERVICES = ['gateway', 'paymaster', 'money-storage'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ServiceProcess {
  name: ServiceName;
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const entry = (name: ServiceName): string => path.join(PROJECT_ROOT, 'dist', name, 'src', 'main.js');

/** Turns a pino JSON line into `name  LEVEL msg {rest}` for people; other lines pass through. */
export function formatLogLine(name: string, line: string): string {
  const tag = name.padEnd(13);
  try {
    const { level, msg, time, service: _s, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    const clock = typeof time === 'string' ? time.slice(11, 23) : '';
    return `${tag} ${clock} ${text(level).toUpperCase().padEnd(5)} ${text(msg)}${extra}`;
  } catch {
    return `${tag} ${line}`;
  }
}

/**
 * Whether a line from the broker or Postgres belongs on `npm start`'s output: one logged at
 * ERROR / FATAL / PANIC (Kafka's `[time] ERROR ...`, Postgres' `ERROR:`, a tool's `initdb: error:`),
 * not an INFO or WARN line that merely mentions an error (`... with error 'TOPIC_ALREADY_EXISTS'`).
 */
export const isInfraFailureLine = (line: string): boolean => /\b(ERROR|FATAL|PANIC)\b|: (error|fatal):/.test(line);

/** Starts one service as its own Node process, its output handed to `onLine`. */
export function spawnService(
  name: ServiceName,
  port: number,
  env: NodeJS.ProcessEnv,
  onLine: (name: ServiceName, line: string) => void,
  execArgv: string[] = [],
): ServiceProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', ...execArgv, entry(name)], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  const split = (d: Buffer): void => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(name, line);
  };
  child.stdout?.on('data', split);
  child.stderr?.on('data', split);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // If the launcher dies, so do its services: crash-only, committed offsets make that safe, and a
  // service left writing logs into a pipe nobody reads could block forever.
  const orphanGuard = (): void => void child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  void exited.then(() => process.removeListener('exit', orphanGuard));
  return { name, port, child, exited };
}

export async function waitReady(service: ServiceProcess, timeoutMs: number): Promise<void> {
  await waitFor(
    `${service.name} /readyz on port ${service.port}`,
    async () => {
      if (service.child.exitCode !== null)
        throw new Error(`${service.name} exited with code ${service.child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${service.port}/readyz`);
      return res.status === 200 ? true : undefined;
    },
    timeoutMs,
    200,
  );
}

/** SIGTERM, then SIGKILL if the service has not exited within `graceMs`. */
export async function stopService(service: ServiceProcess, graceMs = 35_000): Promise<number | null> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return service.child.exitCode;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  const code = await service.exited;
  clearTimeout(timer);
  return code;
}

/** A log field as text: pino writes strings and numbers here, anything else is shown as JSON. */
const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
