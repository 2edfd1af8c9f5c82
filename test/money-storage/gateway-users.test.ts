import { createLogger } from '../../common/logger';
import { userLookupAnswer } from '../../common/user-lookup';
import { freePort } from '../../infra/free-port';
import { GatewayUsers, type UserLookup } from '../../money-storage/src/gateway-users';
import { newUserId, SERVICE_TOKEN, startGatewayStub, type GatewayStub, type StubUser } from './harness';

const clientOf = (baseUrls: string[]): GatewayUsers =>
  new GatewayUsers({
    baseUrls,
    serviceToken: SERVICE_TOKEN,
    timeoutMs: 1000,
    retries: 1,
    retryBaseMs: 1,
    logger: createLogger('test', 'silent'),
  });

const bySize = (batches: number[]): number[] => [...batches].sort((a, b) => a - b);
const errorOf = (lookup: UserLookup): string =>
  lookup.kind === 'unavailable' ? lookup.error : `not unavailable: ${lookup.kind}`;

describe('user lookups from the gateway', () => {
  let live: GatewayStub;
  beforeEach(async () => {
    live = await startGatewayStub();
  });
  afterEach(() => live.close());

  /** Six active users looked up at once, the one at `failing` in a failure mode of the stub. */
  const sixLookupsWith = async (failing: number, mode: StubUser) => {
    const client = clientOf([live.url]);
    const users = Array.from({ length: 6 }, () => newUserId());
    users.forEach((id) => live.users.set(id, 'ACTIVE'));
    live.users.set(users[failing]!, mode);
    return { client, users, lookups: await Promise.all(users.map((id) => client.lookup(id))) };
  };

  it('share requests: lookups made while others are on the wire go out together, each user asked once', async () => {
    const client = clientOf([live.url]);
    const users = Array.from({ length: 50 }, () => newUserId());
    users.forEach((id, i) => i % 5 !== 0 && live.users.set(id, i % 7 === 0 ? 'BLOCKED' : 'ACTIVE'));
    const found = await Promise.all(users.map((id) => client.lookup(id)));
    expect(found).toEqual(
      users.map((id, i) =>
        i % 5 === 0
          ? { kind: 'unknown' }
          : { kind: 'found', userId: id, userName: `user-${id}`, status: i % 7 === 0 ? 'BLOCKED' : 'ACTIVE' },
      ),
    );
    // Four requests in flight at most: the first four lookups went alone, the other 46 together
    // (in any order: the fifth may reach the gateway on a kept-alive connection before a fourth's new one).
    expect(bySize(live.batches)).toEqual([1, 1, 1, 1, 46]);
    expect(users.map((id) => live.requests.get(id))).toEqual(users.map(() => 1));
    // Kept alive: at most one connection per request that was on the wire at once.
    expect(live.connections()).toBeLessThanOrEqual(4);
    await client.lookup(newUserId());
    expect(live.connections()).toBeLessThanOrEqual(4);
  });

  it.each(['HANG', 'DROP_CONNECTION', 'CUT_ANSWER'] as const)(
    'make lookups unavailable when the gateway gives no whole answer (%s), and find users again after',
    async (mode) => {
      const client = clientOf([live.url]);
      const [lost, next] = [newUserId(), newUserId()];
      live.users.set(lost, mode);
      live.users.set(next, 'ACTIVE');
      expect(errorOf(await client.lookup(lost))).toMatch(/^gateway unreachable: /);
      expect(live.requests.get(lost)).toBe(2); // asked again once (retries: 1)
      expect(await client.lookup(next)).toMatchObject({ kind: 'found', status: 'ACTIVE' });
    },
  );

  it('make a lookup unavailable, never thrown, when Node refuses to even send the request', async () => {
    const client = new GatewayUsers({
      baseUrls: [live.url],
      serviceToken: 'line\nbreak', // no valid header value
      timeoutMs: 1000,
      retries: 0,
      retryBaseMs: 1,
      logger: createLogger('test', 'silent'),
    });
    expect(errorOf(await client.lookup(newUserId()))).toMatch(/^gateway unreachable: .*header/i);
    expect(live.batches).toEqual([]);
  });

  it('refuse an answer that is not JSON without asking again', async () => {
    const client = clientOf([live.url]);
    const odd = newUserId();
    live.users.set(odd, 'NOT_JSON');
    expect(errorOf(await client.lookup(odd))).toMatch(/^gateway sent an unexpected lookup body/);
    expect(live.requests.get(odd)).toBe(1);
  });

  it('make every lookup of a request unavailable in an outage, and ask again for the next lookups', async () => {
    const { client, users, lookups } = await sixLookupsWith(5, 'FAIL_503');
    // The first four went alone; the last two shared the request the gateway failed.
    expect(lookups.map((l) => l.kind)).toEqual(['found', 'found', 'found', 'found', 'unavailable', 'unavailable']);
    expect((await client.lookup(users[4]!)).kind).toBe('found');
  });

  it('ask again one by one when the gateway refuses a shared request, so only the user at fault is unavailable', async () => {
    const { lookups } = await sixLookupsWith(4, 'BAD_REQUEST');
    expect(lookups.map((l) => l.kind)).toEqual(['found', 'found', 'found', 'found', 'unavailable', 'found']);
    // Four alone, the refused shared request of two, then each of its users alone.
    expect(bySize(live.batches)).toEqual([1, 1, 1, 1, 1, 1, 2]);
  });

  it('find the user through the live replica, whichever replica each lookup starts at', async () => {
    const down = `http://127.0.0.1:${await freePort()}`; // nobody listens there
    const client = clientOf([down, live.url]);
    const users = Array.from({ length: 6 }, () => newUserId());
    users.forEach((id) => live.users.set(id, 'ACTIVE'));
    const found = await Promise.all(users.map((id) => client.lookup(id)));
    expect(found.map((f) => f.kind)).toEqual(users.map(() => 'found'));
    expect(users.map((id) => live.requests.get(id))).toEqual(users.map(() => 1)); // each asked the live one once
  });
});

describe("the lookup answer's contract", () => {
  const answer = (id: unknown) => ({ users: [{ id, userName: 'u', status: 'ACTIVE' }] });
  it.each([['-1'], ['0x10'], ['1e3'], [' 7'], ['9223372036854775808'], [''], [1.5], [null]])(
    'refuses %p as a user id, so no unchecked id becomes a UserId',
    (id) => expect(userLookupAnswer.safeParse(answer(id)).success).toBe(false),
  );

  it('takes a decimal int8, as text or (from an older gateway) a number', () => {
    expect(userLookupAnswer.parse(answer('9223372036854775807')).users[0]!.id).toBe('9223372036854775807');
    expect(userLookupAnswer.parse(answer(42)).users[0]!.id).toBe('42');
    expect(userLookupAnswer.safeParse({ users: [{ id: '1', userName: 'u', status: 'GONE' }] }).success).toBe(false);
  });
});
