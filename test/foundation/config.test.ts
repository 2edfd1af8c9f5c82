import { ConfigError } from '../../common/config';
import { loadGatewayConfig } from '../../gateway/src/config';

describe('configuration from the environment', () => {
  it('runs on a laptop with no variables set', () => {
    const config = loadGatewayConfig({});
    expect(config.PORT).toBe(4000);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadGatewayConfig({ PORT: 'eighty', KAFKA_BROKERS: '', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT: .*"eighty"/);
    expect(message).toMatch(/KAFKA_BROKERS/);
    expect(message).toMatch(/LOG_LEVEL/);
  });

  it('refuses to start in production without a JWT secret', () => {
    expect(() => loadGatewayConfig({ NODE_ENV: 'production', INTERNAL_SERVICE_TOKEN: 'a-real-secret-of-some-length' })).toThrow(/JWT_SECRET/);
  });
});
