import { CreatePayment } from '../../client/operations';
import { startTestGateway, userIdOf, type TestGateway } from './harness';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway('internal');
});
afterAll(() => t?.stop());

const setStatus = (base: string, id: string, status: string, headers: Record<string, string> = { 'x-service-token': t.serviceToken }) =>
  fetch(`${base}/internal/users/${id}/status`, { method: 'PUT', headers, body: JSON.stringify({ status }) });

describe('the internal API', () => {
  it('is not on the public port, even with the service token', async () => {
    await t.client('pia').data(CreatePayment, { input: { amount: 1, currency: 'EUR' } });
    const id = await userIdOf(t, 'pia');
    const headers = { 'x-service-token': t.serviceToken };
    expect((await fetch(`${t.url}/internal/users/1`, { headers })).status).toBe(404);
    expect((await fetch(`${t.url}/internal/users/${id}`, { headers })).status).toBe(404);
    expect((await setStatus(t.url, id, 'BLOCKED')).status).toBe(404);
    expect(await (await fetch(`${t.internalUrl}/internal/users/${id}`, { headers })).json()).toEqual({ id, userName: 'pia', status: 'ACTIVE' });
  });

  it('answers 401 without the right token on its own port', async () => {
    expect((await fetch(`${t.internalUrl}/internal/users/1`)).status).toBe(401);
    expect((await setStatus(t.internalUrl, '1', 'BLOCKED', {})).status).toBe(401);
    expect((await setStatus(t.internalUrl, '1', 'BLOCKED', { 'x-service-token': `${t.serviceToken}x` })).status).toBe(401);
    expect((await fetch(`${t.internalUrl}/api/payments`)).status).toBe(404);
  });
});
