import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../common/config';
import { loadGatewayConfig } from '../../gateway/src/config';
import { loadMoneyStorageConfig } from '../../money-storage/src/config';
import { loadPaymasterConfig } from '../../paymaster/src/config';
import { testSecrets } from '../support/secrets';

/** Never the work tree's file: a secrets file that does not exist. */
const noFile = { SECRETS_FILE: path.join(os.tmpdir(), `no-secrets-${process.pid}`, 'local.json') };

const problems = (load: () => unknown): string => {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration from the environment', () => {
  it('runs on a laptop with nothing set but the secrets', () => {
    const config = loadGatewayConfig({ ...noFile, ...testSecrets() });
    expect(config).toMatchObject({
      PORT: 4000,
      INTERNAL_PORT: 4003,
      INTERNAL_HOST: '127.0.0.1',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
    });
    expect(config).toMatchObject({
      JWT_MAX_TTL_SECONDS: 86_400,
      JWT_CLOCK_TOLERANCE_SECONDS: 5,
      WS_MAX_SOCKETS_PER_USER: 10,
    });
    expect(loadMoneyStorageConfig({ ...noFile, ...testSecrets() }).GATEWAY_URL).toEqual(['http://127.0.0.1:4003']);
  });

  it('names every bad variable in one error', () => {
    const message = problems(() =>
      loadGatewayConfig({
        ...noFile,
        PORT: 'eighty',
        KAFKA_BROKERS: '',
        LOG_LEVEL: 'loud',
        JWT_MAX_TTL_SECONDS: '99999999',
      }),
    );
    expect(message).toMatch(/PORT: .*"eighty"/);
    expect(message).toMatch(/KAFKA_BROKERS/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).toMatch(/JWT_MAX_TTL_SECONDS/);
    expect(message).toMatch(/JWT_SECRET: required/);
  });

  it.each([
    ['unset', undefined],
    ['production', 'production'],
  ])('refuses to start without secrets when NODE_ENV is %s, naming each', (_name, NODE_ENV) => {
    const gateway = problems(() => loadGatewayConfig({ ...noFile, NODE_ENV }));
    expect(gateway).toMatch(/JWT_SECRET: required/);
    expect(gateway).toMatch(/INTERNAL_SERVICE_TOKEN: required/);
    const moneyStorage = problems(() => loadMoneyStorageConfig({ ...noFile, NODE_ENV }));
    expect(moneyStorage).toMatch(/INTERNAL_SERVICE_TOKEN: required/);
    expect(moneyStorage).not.toMatch(/JWT_SECRET/);
  });

  it('behaves as production when NODE_ENV is unset (introspection off)', () => {
    const production = (e: NodeJS.ProcessEnv) => loadGatewayConfig({ ...noFile, ...testSecrets(), ...e }).production;
    expect([production({}), production({ NODE_ENV: 'production' })]).toEqual([true, true]);
    expect([production({ NODE_ENV: 'development' }), production({ NODE_ENV: 'test' })]).toEqual([false, false]);
  });

  it.each([
    ['JWT_SECRET', 'hunter2-short-secret'],
    ['INTERNAL_SERVICE_TOKEN', 'svc-token-too-short'],
  ])('never shows the value of a bad %s, only its length', (name, value) => {
    const message = problems(() => loadGatewayConfig({ ...noFile, ...testSecrets(), [name]: value }));
    expect(message).toContain(`${name}: must be at least 32 characters (got ${value.length} characters, not shown)`);
    expect(message).not.toContain(value);
  });

  it.each([
    ['a URL that is not one', 'postgres://payments:s3cr3t-pw@db host:5432/payments'],
    ['a password with @ in it', 'postgres://payments:p@ss@db:99999/payments'],
    ['a password with / in it (openssl rand -base64)', 'postgres://app:Zk3/9q+Wm@db:99999/payments'],
    ['a password parameter', 'postgres://db host/payments?user=app&password=s3cr3t-pw&sslmode=require'],
  ])('never shows the password of a bad DATABASE_URL (%s)', (_case, url) => {
    const message = problems(() => loadGatewayConfig({ ...noFile, ...testSecrets(), DATABASE_URL: url }));
    expect(message).toMatch(/DATABASE_URL: .*(\/\/\*\*\*@|password=\*\*\*)/);
    expect(message).not.toMatch(/s3cr3t|p@ss|9q\+Wm/);
  });

  it('refuses a service token equal to the signing key, which would let money-storage sign tokens', () => {
    const same = 's'.repeat(40);
    expect(problems(() => loadGatewayConfig({ ...noFile, JWT_SECRET: same, INTERNAL_SERVICE_TOKEN: same }))).toBe(
      'Invalid configuration:\n  INTERNAL_SERVICE_TOKEN: must differ from JWT_SECRET',
    );
  });

  it('refuses secrets too short to be secret', () => {
    expect(
      problems(() =>
        loadGatewayConfig({ ...noFile, JWT_SECRET: 'short', INTERNAL_SERVICE_TOKEN: 'dev-internal-service-token' }),
      ),
    ).toMatch(/JWT_SECRET: must be at least 32[\s\S]*INTERNAL_SERVICE_TOKEN: must be at least 32/);
  });

  it('turns the explorer on for development and test, off otherwise (unset included), unless EXPLORER says', () => {
    const explorer = (e: NodeJS.ProcessEnv) => loadGatewayConfig({ ...noFile, ...testSecrets(), ...e }).EXPLORER;
    expect([
      explorer({}),
      explorer({ NODE_ENV: 'development' }),
      explorer({ NODE_ENV: 'test' }),
      explorer({ NODE_ENV: 'production' }),
    ]).toEqual([false, true, true, false]);
    expect([
      explorer({ NODE_ENV: 'production', EXPLORER: 'on' }),
      explorer({ NODE_ENV: 'test', EXPLORER: 'off' }),
    ]).toEqual([true, false]);
    expect(problems(() => explorer({ EXPLORER: 'yes' }))).toMatch(/EXPLORER: .*"yes"/);
  });

  it('hands out money and the explorer’s demo sign-in only where NODE_ENV says development or test', () => {
    const local = (e: NodeJS.ProcessEnv) => {
      const c = loadGatewayConfig({ ...noFile, ...testSecrets(), ...e });
      return { selfDeposits: c.SELF_DEPOSIT_MAX > 0, signsIn: c.explorerSignsIn };
    };
    const neither = { selfDeposits: false, signsIn: false };
    expect(local({ NODE_ENV: 'development' })).toEqual({ selfDeposits: true, signsIn: true });
    expect(local({ NODE_ENV: 'test' })).toEqual({ selfDeposits: true, signsIn: true });
    expect(local({})).toEqual(neither); // a deploy that forgot NODE_ENV: development's defaults otherwise
    expect(local({ NODE_ENV: 'production', EXPLORER: 'on' })).toEqual(neither);
  });

  it('lets the paymaster, which calls no internal API, start without secrets', () => {
    expect(loadPaymasterConfig({ ...noFile }).PORT).toBe(4001);
  });
  it('takes CORS_ORIGINS as exact origins, none by default, and refuses anything else at start', () => {
    expect(loadGatewayConfig({ ...noFile, ...testSecrets() }).CORS_ORIGINS).toEqual([]);
    const listed = loadGatewayConfig({
      ...noFile,
      ...testSecrets(),
      CORS_ORIGINS: ' https://app.example.com, http://localhost:5173 ,',
    });
    expect(listed.CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:5173']);
    for (const bad of [
      '*',
      'app.example.com',
      'https://app.example.com/',
      'https://app.example.com/path',
      'ftp://files.example.com',
      'https://u:p@app.example.com',
    ]) {
      expect(
        problems(() =>
          loadGatewayConfig({ ...noFile, ...testSecrets(), CORS_ORIGINS: `https://ok.example.com,${bad}` }),
        ),
      ).toContain('CORS_ORIGINS');
    }
  });
});
