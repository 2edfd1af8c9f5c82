import { toKafkaMessage } from '../../common/kafka/client';
import type { MoneyOperation } from '../../common/kafka/contracts';
import { eventually } from '../support/infra';
import { refuseWrites } from '../support/refusing-trigger';
import { createHarness, debit, deposit, newUserId, seed, settle, type Harness, type Received } from './harness';
import { operationKey } from '../../common/kafka/messages';

/**
 * A command that can never be processed must cost its partition one DLQ entry, not its progress:
 * the commands after it, in the same chunk, are answered. A failure that passes is retried in place.
 */
describe('money-storage with poison on money-operations', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('ms_poison');
    await h.start({ OPERATION_CHUNK_SIZE: '50' });
  });
  afterAll(() => h.close());

  const dlq = (): Received[] => h.received.filter((m) => m.topic === `${h.names.moneyOperations}.dlq`);
  const parked = (what: (m: Received) => boolean): Promise<Received> =>
    eventually('the poison in the DLQ', () => dlq().find(what));
  /** Everything on partition 0, in one send: one batch, one chunk. */
  const sendRaw = (messages: Array<{ key: string; value: string | Buffer }>): Promise<unknown> =>
    h.producer.send({ topic: h.names.moneyOperations, messages: messages.map((m) => ({ ...m, partition: 0 })) });
  const raw = (op: MoneyOperation): { key: string; value: Buffer } =>
    toKafkaMessage('moneyOperations', { key: operationKey(op), value: op });

  async function fundedUser(): Promise<ReturnType<typeof newUserId>> {
    const user = newUserId();
    h.gateway.users.set(user, 'ACTIVE');
    await seed(h, user, 1000);
    return user;
  }

  it('parks an operation id with a NUL byte or a lone surrogate and answers the commands around it', async () => {
    const user = await fundedUser();
    const before = debit(user, 100);
    const after = debit(user, 200);
    const nul = JSON.stringify({ ...debit(user, 1), operationId: 'deposit:1:\u0000' });
    const surrogate = JSON.stringify({ ...debit(user, 1), operationId: 'deposit:1:\ud800' });
    expect(surrogate).toContain('\\ud800'); // the escape, as a producer in another language would write it
    await sendRaw([raw(before), { key: 'nul', value: nul }, { key: 'surrogate', value: surrogate }, raw(after)]);

    expect((await h.waitResults(before.operationId))[0]).toMatchObject({ outcome: 'APPLIED' });
    expect((await h.waitResults(after.operationId))[0]).toMatchObject({ outcome: 'APPLIED' });
    for (const key of ['nul', 'surrogate']) {
      const message = await parked((m) => m.key === key);
      expect(message.headers).toMatchObject({ 'dlq-class': 'deterministic', 'dlq-source-partition': '0' });
      expect(message.headers['dlq-error']).toMatch(/operationId/);
    }
    expect(await h.balance(user)).toBe('700');
  });

  /** Postgres refuses one command's answer, although it passes the schema. */
  const refuseInPostgres = (operationId: string, sqlstate: string, times: 'always' | number) =>
    refuseWrites(
      h.pool,
      { schema: 'money', table: 'processed_operations', event: 'INSERT', when: `NEW.operation_id = '${operationId}'` },
      sqlstate,
      times,
    );
  const ledgerEntries = async (operationId: string): Promise<number> => {
    const { rows } = await h.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM money.ledger_entries WHERE operation_id = $1',
      [operationId],
    );
    return rows[0]!.n;
  };

  it('isolates a command Postgres refuses for good (22023): it alone goes to the DLQ, the rest of its chunk is answered', async () => {
    const user = await fundedUser();
    const earlier = debit(user, 50);
    await h.send([earlier]);
    await h.waitResults(earlier.operationId);
    const poison = debit(user, 100);
    await refuseInPostgres(poison.operationId, '22023', 'always');
    const others = [debit(user, 10), settle(earlier), deposit(user, 5), debit(user, 20)];
    await sendRaw([raw(others[0]!), raw(others[1]!), raw(poison), raw(others[2]!), raw(others[3]!)]);

    const message = await parked((m) => m.key === poison.paymentId);
    expect(message.headers).toMatchObject({ 'dlq-class': 'deterministic' });
    expect(message.headers['dlq-error']).toBe('22023: refused by a test trigger');
    const answers = await Promise.all(others.map(async (op) => (await h.waitResults(op.operationId))[0]!));
    expect(answers.map((a) => [a.kind, a.outcome])).toEqual([
      ['DEBIT', 'APPLIED'],
      ['SETTLE', 'APPLIED'],
      ['CREDIT', 'APPLIED'],
      ['DEBIT', 'APPLIED'],
    ]);
    expect(h.results(poison.operationId)).toEqual([]);
    expect(await h.balance(user)).toBe(String(1000 - 50 - 10 + 5 - 20));
    expect(await h.ledgerSum(user)).toBe(await h.balance(user));
  });

  it('parks a command whose answer fails the results schema (a stored answer from an older version) and answers the rest of its chunk', async () => {
    const user = await fundedUser();
    const legacy = debit(user, 100);
    await h.pool.query(
      `INSERT INTO money.processed_operations (operation_id, kind, payment_id, user_id, outcome, reason) VALUES ($1, 'DEBIT', $2, $3, 'REJECTED', 'LEGACY_REASON')`,
      [legacy.operationId, legacy.paymentId, user],
    );
    const others = [debit(user, 10), debit(user, 20)];
    await sendRaw([raw(others[0]!), raw(legacy), raw(others[1]!)]);

    const message = await parked((m) => m.key === legacy.paymentId);
    expect(message.headers['dlq-error']).toMatch(/^refusing to publish an invalid moneyOperationResults message/);
    for (const op of others) expect((await h.waitResults(op.operationId))[0]).toMatchObject({ outcome: 'APPLIED' });
    expect(h.results(legacy.operationId)).toEqual([]);
    expect(await h.balance(user)).toBe('970');
  });

  it('retries a transient refusal (40001, three times) in place and applies the command exactly once', async () => {
    const user = await fundedUser();
    const flaky = debit(user, 300);
    const next = debit(user, 1);
    const trigger = await refuseInPostgres(flaky.operationId, '40001', 3);
    await sendRaw([raw(flaky), raw(next)]);

    // Different keys run concurrently, so either may have taken its money first.
    expect((await h.waitResults(flaky.operationId))[0]).toMatchObject({ outcome: 'APPLIED' });
    expect((await h.waitResults(next.operationId))[0]).toMatchObject({ outcome: 'APPLIED' });
    expect(await trigger.attempts()).toBe(4); // three refused, the fourth applied
    expect(await ledgerEntries(flaky.operationId)).toBe(1);
    expect(await h.balance(user)).toBe('699');
    expect(await h.ledgerSum(user)).toBe('699');
    expect(dlq().filter((m) => m.key === flaky.paymentId)).toEqual([]);
  });

  it('keeps a deposit whose user lookup failed waiting (no FAILED answer) until the gateway answers, then applies it once', async () => {
    const user = newUserId();
    h.gateway.users.set(user, 'FAIL_503');
    const op = deposit(user, 70);
    await h.send([op]);
    // One lookup is 1 + GATEWAY_RETRIES (2) requests: more than 3 means the chunk was retried.
    await eventually('the deposit retried', () => ((h.gateway.requests.get(user) ?? 0) > 3 ? true : undefined));
    expect(h.results(op.operationId)).toEqual([]);
    const { rowCount } = await h.pool.query('SELECT 1 FROM money.processed_operations WHERE operation_id = $1', [
      op.operationId,
    ]);
    expect(rowCount).toBe(0);

    h.gateway.users.set(user, 'ACTIVE');
    expect((await h.waitResults(op.operationId))[0]).toMatchObject({ outcome: 'APPLIED', balanceAfter: '70' });
    expect(await h.balance(user)).toBe('70');
    expect(await h.ledgerSum(user)).toBe('70');
  });
});
