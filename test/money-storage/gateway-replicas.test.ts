import { createLogger } from '../../common/logger';
import { freePort } from '../../infra/free-port';
import { GatewayUsers } from '../../money-storage/src/gateway-users';
import { newUserId, SERVICE_TOKEN, startGatewayStub } from './harness';

/** GATEWAY_URL lists several gateway replicas: one that is down costs an attempt, never the lookup. */
describe('user lookups across gateway replicas', () => {
  it('find the user through the live replica, whichever replica each lookup starts at', async () => {
    const live = await startGatewayStub();
    const down = `http://127.0.0.1:${await freePort()}`; // nobody listens there
    try {
      const client = new GatewayUsers({
        baseUrls: [down, live.url],
        serviceToken: SERVICE_TOKEN,
        timeoutMs: 1000,
        retries: 1,
        retryBaseMs: 1,
        logger: createLogger('test', 'silent'),
      });
      const users = Array.from({ length: 6 }, () => newUserId());
      users.forEach((id) => live.users.set(id, 'ACTIVE'));
      const found = await Promise.all(users.map((id) => client.lookup(id)));
      expect(found.map((f) => f.kind)).toEqual(users.map(() => 'found'));
      expect(users.map((id) => live.requests.get(id))).toEqual(users.map(() => 1)); // each asked the live one once
    } finally {
      await live.close();
    }
  });
});
