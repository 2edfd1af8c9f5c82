import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PROJECT_ROOT } from '../../common/project-root';
import { waitFor } from '../../common/wait-for';
import { freePort } from '../../infra/free-port';
import { composeServices, resolvedEnvironment, type ComposeService } from '../support/compose';
import { freshDatabase, kafkaBrokers, uniqueName } from '../support/infra';

/**
 * Each compose `command` run as its container would: from the project root, with only the compose
 * environment (secrets as compose takes them out of .env, NODE_ENV=production as the image sets it), pointed at the
 * test run's Kafka and Postgres and at free ports. Each service must become ready, then exit 0 on SIGTERM.
 */
const services = composeServices();
const vars = {
  JWT_SECRET: randomBytes(32).toString('base64'),
  INTERNAL_SERVICE_TOKEN: randomBytes(32).toString('base64'),
  POSTGRES_PASSWORD: 'unused',
};

interface Container {
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
  output: string[];
}

/** Runs `argv` (its `node` being this Node) with exactly `env` plus PATH, like a container's entry. */
function run(argv: string[], env: Record<string, string>): Container {
  const child = spawn(process.execPath, argv.slice(1), {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  return { exited, stop, output };
}

const command = (name: string): string[] => services[name]!.command!;

/** A service's compose healthcheck, probing `port` instead of the compose one. */
function healthy(s: ComposeService, port: number): Promise<boolean> {
  const [, ...argv] = s.healthcheck!.test; // drop "CMD"
  const probe = run(
    argv.map((a) => a.replace(`127.0.0.1:${s.environment!.PORT}`, `127.0.0.1:${port}`)),
    {},
  );
  return probe.exited.then((code) => code === 0);
}

let env: (name: string, ports: Record<string, string>) => Record<string, string>;
beforeAll(async () => {
  const shared = {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    DATABASE_URL: await freshDatabase('compose'),
    KAFKA_TOPIC_PREFIX: `${uniqueName('compose')}.`,
    NODE_ENV: 'production',
  };
  env = (name, ports) => ({ ...resolvedEnvironment(services[name]!, vars), ...shared, ...ports });
});

it('runs the topics job, then every service to readiness and a clean exit on SIGTERM', async () => {
  const topics = run(command('topics'), env('topics', {}));
  expect([await topics.exited, topics.output.join('')]).toEqual([0, expect.anything()]);

  const [gw, gwInternal, pm, ms, msInternal] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const ports: Record<string, Record<string, string>> = {
    gateway: { PORT: `${gw}`, INTERNAL_PORT: `${gwInternal}`, MONEY_STORAGE_URL: `http://127.0.0.1:${msInternal}` },
    paymaster: { PORT: `${pm}` },
    'money-storage': { PORT: `${ms}`, INTERNAL_PORT: `${msInternal}`, GATEWAY_URL: `http://127.0.0.1:${gwInternal}` },
  };
  const started: Record<string, Container> = {};
  const ready = async (name: string): Promise<void> => {
    started[name] = run(command(name), env(name, ports[name]!));
    await waitFor(
      `${name}'s compose healthcheck`,
      async () => {
        if ((await Promise.race([started[name]!.exited, Promise.resolve('running')])) !== 'running')
          throw new Error(started[name]!.output.join(''));
        return (await healthy(services[name]!, Number(ports[name]!.PORT))) ? true : undefined;
      },
      30_000,
      200,
    );
  };
  const stopAll = async () =>
    Object.fromEntries(
      await Promise.all(Object.entries(started).map(async ([name, c]) => [name, await c.stop()] as const)),
    );
  try {
    // In compose's order: money-storage waits for a healthy gateway.
    await Promise.all([ready('gateway'), ready('paymaster')]);
    await ready('money-storage');
  } catch (e) {
    await stopAll(); // nothing outlives a failed start; its error is the one reported
    throw e;
  }
  expect(await stopAll()).toEqual({ gateway: 0, paymaster: 0, 'money-storage': 0 });
}, 60_000);
