import fs from 'node:fs';
import { parse } from 'yaml';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root';
import { secretsShape } from '../../common/secrets';
import { loadGatewayConfig } from '../../gateway/src/config';
import { loadMoneyStorageConfig } from '../../money-storage/src/config';
import { loadPaymasterConfig } from '../../paymaster/src/config';
import {
  composeServices,
  envFileEntries,
  readProjectFile,
  referencedVariables,
  type ComposeService,
} from '../support/compose';

const services = composeServices();
const envExample = envFileEntries(readProjectFile('.env.example'));

/** Every target Prometheus scrapes in the monitoring profile. */
const prometheusTargets = (): string[] =>
  (parse(readProjectFile('infra/prometheus/prometheus.yml')) as PrometheusConfig).scrape_configs.flatMap((job) =>
    job.static_configs.flatMap((c) => c.targets),
  );
interface PrometheusConfig {
  scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
}
const SECRET_NAMES = [...Object.keys(secretsShape), 'POSTGRES_PASSWORD'];
const LONG_RUNNING = Object.keys(services).filter((name) => name !== 'topics');
const OUR_SERVICES = ['gateway', 'paymaster', 'money-storage'] as const;

const service = (name: string): ComposeService => services[name]!;
const env = (name: string, key: string): string => String(service(name).environment?.[key]);
const portOf = (url: string): number => Number(new URL(url).port);
/** Container ports a service publishes on the host: `127.0.0.1:5433:5432` → 5432. */
const publishedContainerPorts = (s: ComposeService): number[] =>
  (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));

/** The configuration each service would load from its compose environment (secrets filled in, nothing else). */
function configDefaults() {
  const secrets = { JWT_SECRET: 'j'.repeat(32), INTERNAL_SERVICE_TOKEN: 't'.repeat(32), NODE_ENV: 'production' };
  return {
    gateway: loadGatewayConfig(secrets),
    paymaster: loadPaymasterConfig(secrets),
    'money-storage': loadMoneyStorageConfig(secrets),
  };
}

describe('docker-compose.yml', () => {
  it.each(LONG_RUNNING)('%s has a healthcheck and restarts unless stopped', (name) => {
    expect(service(name).healthcheck?.test.length).toBeGreaterThan(0);
    expect(service(name).restart).toBe('unless-stopped');
  });

  it('retries the one-shot topics job only when it fails', () => {
    expect(service('topics').restart).toBe('on-failure');
  });

  it('waits on conditions a dependency can meet: healthy needs a healthcheck, completed needs a one-shot job', () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, Array.isArray(s.depends_on)]).toEqual([name, false]);
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = service(dependency);
        if (condition === 'service_healthy')
          expect([name, dependency, target.healthcheck]).toEqual([name, dependency, expect.anything()]);
        else if (condition === 'service_completed_successfully') expect(target.restart).toBe('on-failure');
        else expect(condition).toBe('service_started');
      }
    }
  });

  it('starts each service after what it needs', () => {
    const conditions = (name: string) => service(name).depends_on as Record<string, { condition: string }>;
    expect(conditions('gateway')).toMatchObject({
      postgres: { condition: 'service_healthy' },
      topics: { condition: 'service_completed_successfully' },
    });
    expect(conditions('money-storage')).toMatchObject({
      postgres: { condition: 'service_healthy' },
      topics: { condition: 'service_completed_successfully' },
      gateway: { condition: 'service_healthy' },
    });
    expect(conditions('paymaster')).toMatchObject({
      kafka: { condition: 'service_healthy' },
      topics: { condition: 'service_completed_successfully' },
    });
    expect(conditions('topics')).toMatchObject({ kafka: { condition: 'service_healthy' } });
  });

  it('takes every secret from .env and refuses to start without it; no literal secret anywhere', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const text = String(value);
        const secretsUsed = referencedVariables(text).filter((v) => SECRET_NAMES.includes(v));
        if (SECRET_NAMES.includes(key))
          expect([name, key, text]).toEqual([name, key, expect.stringMatching(new RegExp(`^\\$\\{${key}:\\?.+\\}$`))]);
        if (/SECRET|TOKEN|PASSWORD/.test(key)) expect([name, key, secretsUsed]).toEqual([name, key, [key]]);
        // Every reference names its fix: `${VAR:?message}`, never a silent empty default.
        for (const variable of referencedVariables(text)) expect(text).toContain(`\${${variable}:?`);
      }
    }
    expect(env('topics', 'DATABASE_URL')).toContain('${POSTGRES_PASSWORD:?');
  });

  it('runs, in every command, a file that `npm run build` produces', () => {
    for (const [name, s] of Object.entries(services).filter(([, s]) => s.build)) {
      expect([name, s.command?.[0]]).toEqual([name, 'node']);
      expect([name, fs.existsSync(path.join(PROJECT_ROOT, s.command![1]!))]).toEqual([name, true]);
    }
  });

  it.each(OUR_SERVICES)('%s listens, publishes and is probed on its configured port', (name) => {
    const port = configDefaults()[name].PORT;
    expect(Number(env(name, 'PORT'))).toBe(port);
    expect(publishedContainerPorts(service(name))).toEqual([port]);
    expect(service(name).healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
    expect(prometheusTargets()).toContain(`${name}:${port}`);
  });

  it('publishes only the gateway beyond the host: the others serve health and metrics, for probes and Prometheus', () => {
    expect(service('gateway').ports).toEqual(['4000:4000']);
    expect(service('paymaster').ports).toEqual(['127.0.0.1:4001:4001']);
    expect(service('money-storage').ports).toEqual(['127.0.0.1:4002:4002']);
  });

  it('gives the service token only to the two services whose internal API it opens', () => {
    const holders = Object.keys(services).filter((name) => service(name).environment?.INTERNAL_SERVICE_TOKEN);
    expect(holders.sort()).toEqual(['gateway', 'money-storage']);
  });

  it('points each internal URL at the other service’s internal port, bound beyond loopback', () => {
    const defaults = configDefaults();
    expect(portOf(env('money-storage', 'GATEWAY_URL'))).toBe(Number(env('gateway', 'INTERNAL_PORT')));
    expect(portOf(env('gateway', 'MONEY_STORAGE_URL'))).toBe(Number(env('money-storage', 'INTERNAL_PORT')));
    expect(Number(env('gateway', 'INTERNAL_PORT'))).toBe(defaults.gateway.INTERNAL_PORT);
    expect(Number(env('money-storage', 'INTERNAL_PORT'))).toBe(defaults['money-storage'].INTERNAL_PORT);
    expect([env('gateway', 'INTERNAL_HOST'), env('money-storage', 'INTERNAL_HOST')]).toEqual(['0.0.0.0', '0.0.0.0']);
  });

  it('gives Kafka a listener for containers and one published for the host', () => {
    const kafka = (key: string) => env('kafka', key);
    expect(kafka('KAFKA_ADVERTISED_LISTENERS').split(',')).toEqual([
      'INTERNAL://kafka:9092',
      'EXTERNAL://localhost:29092',
    ]);
    expect(kafka('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP')).toMatch(/INTERNAL:PLAINTEXT.*EXTERNAL:PLAINTEXT/);
    expect(kafka('KAFKA_INTER_BROKER_LISTENER_NAME')).toBe('INTERNAL');
    expect(publishedContainerPorts(service('kafka'))).toEqual([29092]);
    expect(env('topics', 'KAFKA_BROKERS')).toBe('kafka:9092');
    expect(service('kafka').healthcheck!.test.join(' ')).toContain(
      'kafka-broker-api-versions.sh --bootstrap-server localhost:9092',
    );
  });

  it('keeps Prometheus and Grafana behind the monitoring profile', () => {
    expect([service('prometheus').profiles, service('grafana').profiles]).toEqual([['monitoring'], ['monitoring']]);
  });
});

describe('.env.example', () => {
  it('lists every variable compose needs, each with a placeholder the services refuse', () => {
    const needed = new Set(
      Object.values(services).flatMap((s) =>
        Object.values(s.environment ?? {}).flatMap((v) => referencedVariables(String(v))),
      ),
    );
    expect(Object.keys(envExample).sort()).toEqual([...needed].sort());
    for (const [name, schema] of Object.entries(secretsShape))
      expect([name, schema.safeParse(envExample[name]).success]).toEqual([name, false]);
    expect(readProjectFile('.env.example')).toContain('openssl rand -base64 32');
  });

  it('is committed while .env is ignored by git and by the image build', () => {
    expect(readProjectFile('.gitignore').split('\n')).toContain('.env');
    expect(readProjectFile('.dockerignore').split('\n')).toEqual(
      expect.arrayContaining(['.git', '.env', '.secrets', 'node_modules', 'dist', '.data', '.kafka']),
    );
  });
});
