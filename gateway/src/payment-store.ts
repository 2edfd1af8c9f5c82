import { and, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { PaymentRequested } from '../../common/kafka/contracts';
import type { PaymentId, UserId } from '../../common/ids';
import type { Currency } from '../../common/money';
import type { PaymentStatus } from '../../common/payment-status';
import type { UserStatus } from '../../common/user-lookup';
import * as schema from '../db/schema';
import { Batcher } from '../../common/batcher';
import { setNewest } from '../../common/newest-first-map';
import { ApiError } from '../../common/api-error';
import { inTransaction, pgArray, runPrepared, type PooledDb } from '../../common/db';

export type Db = PooledDb<typeof schema>;

export type PaymentRow = typeof schema.payments.$inferSelect;
export type UserRow = typeof schema.users.$inferSelect;
export type OutboxRow = typeof schema.outbox.$inferSelect;

/**
 * Users whose id and status stay cached, the one fetched from the database longest ago first to
 * go: dropping them all at once, as this did before, sent every active user's next call to the
 * database together.
 */
const USERS_KEPT = 100_000;

export interface NewPayment {
  id: PaymentId;
  userId: UserId;
  amount: number;
  currency: Currency;
  idempotencyKey: string | null;
  traceparent: string;
  /** What the outbox row carries to `payments`, built by the caller: the store does not know Kafka's shapes. */
  outboxPayload: PaymentRequested;
}

type UserState = Pick<UserRow, 'id' | 'status'>;

/** Told of every status a payment enters, once: after the statement that made the change committed. */
export type StatusChangeListener = (status: PaymentStatus, currency: string) => void;

/** Every read and write of the gateway's tables. */
export class PaymentStore {
  /**
   * Each user's id and ACTIVE/BLOCKED status, read at most once per `userStatusTtlMs` (the promise
   * is cached, so concurrent calls share one read). Ids never change; the status may, on any replica.
   */
  private readonly users = new Map<string, { state: Promise<UserState>; at: number }>();
  private readonly userStatusTtlMs: number;
  private readonly usersKept: number;
  private readonly onStatusChange: StatusChangeListener;

  constructor(
    readonly db: Db,
    options: { userStatusTtlMs?: number; usersKept?: number; onStatusChange?: StatusChangeListener } = {},
  ) {
    this.userStatusTtlMs = options.userStatusTtlMs ?? 2000;
    this.usersKept = options.usersKept ?? USERS_KEPT;
    this.onStatusChange = options.onStatusChange ?? (() => undefined);
  }

  /** The caller's user id, creating the user on first sight; a blocked user may do nothing at all. */
  async userIdFor(userName: string): Promise<UserId> {
    const { id, status } = await this.userState(userName);
    if (status === 'BLOCKED') throw blockedAccount();
    return id;
  }

  /**
   * The payer's id for `createPayment`, which checks the status itself, in its INSERT: a blocked
   * user's payment is never written, whatever any replica's cache says. An id known here needs no
   * fresh read then (ids never change); only a block this replica saw recently refuses before the
   * insert. Under load this saves a status query per payment.
   */
  async payerIdFor(userName: string): Promise<UserId> {
    const cached = this.users.get(userName);
    if (!cached) return this.userIdFor(userName);
    const { id, status } = await cached.state;
    if (status === 'BLOCKED' && Date.now() - cached.at < this.userStatusTtlMs) throw blockedAccount();
    return id;
  }

  private userState(userName: string): Promise<UserState> {
    const cached = this.users.get(userName);
    if (cached && Date.now() - cached.at < this.userStatusTtlMs) return cached.state;
    const state = cached ? cached.state.then(({ id }) => this.statusReads.submit(id)) : this.upsertUser(userName);
    const entry = { state, at: Date.now() };
    setNewest(this.users, userName, entry, this.usersKept);
    state.catch(() => {
      if (this.users.get(userName) === entry) this.users.delete(userName); // the next call tries again
    });
    return state;
  }

  /**
   * Every active user's status is read again once per TTL: a thousand users paying at once would be
   * hundreds of single-row queries a second, each holding a pooled connection that inserts need.
   */
  private readonly statusReads = new Batcher((ids: UserId[]) => this.readUserStates(ids), 1000, 2);

  private async readUserStates(ids: UserId[]): Promise<UserState[]> {
    const rows = await this.db
      .select({ id: schema.users.id, status: schema.users.status })
      .from(schema.users)
      .where(inArray(schema.users.id, [...new Set(ids)]));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      if (!row) throw new Error('user vanished: users are never deleted');
      return row;
    });
  }

  private async upsertUser(userName: string): Promise<UserState> {
    await this.db.insert(schema.users).values({ userName }).onConflictDoNothing({ target: schema.users.userName });
    return this.readUserState(eq(schema.users.userName, userName));
  }

  private async readUserState(which: SQL): Promise<UserState> {
    const [row] = await this.db
      .select({ id: schema.users.id, status: schema.users.status })
      .from(schema.users)
      .where(which);
    if (!row) throw new Error('user vanished: users are never deleted');
    return row;
  }

  /** Which of these users are blocked now, in one query (bypassing the status cache). */
  async blockedAmong(userNames: string[]): Promise<Set<string>> {
    if (userNames.length === 0) return new Set();
    const rows = await this.db
      .select({ userName: schema.users.userName })
      .from(schema.users)
      .where(and(eq(schema.users.status, 'BLOCKED'), inArray(schema.users.userName, userNames)));
    return new Set(rows.map((r) => r.userName));
  }

  async findUserByName(userName: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(schema.users).where(eq(schema.users.userName, userName));
    return row;
  }

  /** Users by id in one statement (the internal API's lookups, one or many); unknown ids are simply absent. */
  async findUsers(ids: readonly UserId[]): Promise<Array<Pick<UserRow, 'id' | 'userName' | 'status'>>> {
    if (ids.length === 0) return [];
    const rows = await runPrepared<{ id: UserId; user_name: string; status: UserStatus }>(
      this.db.$client,
      'gateway-find-users',
      sql`SELECT id::text, user_name, status FROM gateway.users WHERE id = ANY(${pgArray(ids)}::bigint[])`,
    );
    return rows.map((r) => ({ id: r.id, userName: r.user_name, status: r.status }));
  }

  /** Takes effect at once on this replica; other replicas see it within their USER_STATUS_CACHE_MS. */
  async setUserStatus(id: UserId, status: UserStatus): Promise<UserRow | undefined> {
    const [row] = await this.db.update(schema.users).set({ status }).where(eq(schema.users.id, id)).returning();
    if (row) this.users.delete(row.userName);
    return row;
  }

  /**
   * The payment and its outbox message commit together, so an acknowledged payment always has a
   * message on its way. Concurrent calls share one statement (two inserts in a CTE: atomic without
   * BEGIN/COMMIT), so a busy gateway pays one round trip and one WAL flush per batch, not per
   * payment. A repeated idempotency key inserts nothing and returns the first payment. A payer
   * blocked by the time the statement runs gets FORBIDDEN, and nothing is written.
   */
  async createPayment(p: NewPayment): Promise<{ payment: PaymentRow; outbox: OutboxRow | null }> {
    const inserted = await this.inserts.submit(p);
    if (inserted === 'blocked') throw blockedAccount();
    return inserted;
  }

  /** How long the oldest createPayment has waited for its INSERT to start (admission reads it). */
  writeQueueWaitMs(): number {
    return this.inserts.oldestWaitMs();
  }

  private readonly inserts = new Batcher((batch: NewPayment[]) => this.insertMany(batch), 500, 2);

  private async insertMany(
    batch: NewPayment[],
  ): Promise<Array<{ payment: PaymentRow; outbox: OutboxRow | null } | 'blocked'>> {
    const createdAt = new Date();
    const input = JSON.stringify(
      batch.map((p) => ({
        id: p.id,
        user_id: p.userId,
        amount: p.amount,
        currency: p.currency,
        key: p.idempotencyKey,
        payload: p.outboxPayload,
        traceparent: p.traceparent,
      })),
    );
    // Rows with a null id are payments of a payer not ACTIVE: nothing of them was written. The
    // `= ANY` lists repeat the batch's keys for the planner (see BATCH_KEYS in common/db.ts).
    const rows = await runPrepared<{ id: string | null; message_key: PaymentId; created_at: Date }>(
      this.db.$client,
      'gateway-insert-payments',
      sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::jsonb)
          AS x(id uuid, user_id bigint, amount int, currency text, key text, payload jsonb, traceparent text)),
      payable AS (
        SELECT input.* FROM input JOIN gateway.users u ON u.id = input.user_id
         WHERE u.id = ANY(${pgArray(batch.map((p) => p.userId))}::bigint[]) AND u.status = 'ACTIVE'),
      payment AS (
        INSERT INTO gateway.payments (id, user_id, amount, currency, status, idempotency_key, created_at, updated_at)
        SELECT id, user_id, amount, currency, 'NEW', key, ${createdAt}, ${createdAt} FROM payable
        ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id),
      message AS (
        INSERT INTO gateway.outbox (topic, message_key, payload, traceparent)
        SELECT 'payments', input.id, input.payload, input.traceparent FROM input JOIN payment USING (id)
        RETURNING id, message_key, created_at)
      SELECT id::text, message_key::text, created_at FROM message
      UNION ALL
      SELECT NULL, id::text, NULL FROM input WHERE id NOT IN (SELECT id FROM payable)`,
    );
    const blocked = new Set(rows.filter((r) => r.id === null).map((r) => r.message_key));
    const outboxById = new Map(rows.filter((r) => r.id !== null).map((r) => [r.message_key, r]));
    for (const p of batch) if (outboxById.has(p.id)) this.onStatusChange('NEW', p.currency);
    return Promise.all(
      batch.map(async (p) => {
        if (blocked.has(p.id)) return 'blocked' as const;
        const row = outboxById.get(p.id);
        if (!row) return { payment: await this.existingFor(p), outbox: null };
        const { traceparent, outboxPayload, ...fields } = p;
        const payment: PaymentRow = {
          ...fields,
          status: 'NEW',
          reason: null,
          statusSeq: 0,
          createdAt,
          updatedAt: createdAt,
        };
        const outbox: OutboxRow = {
          id: Number(row.id),
          topic: 'payments',
          messageKey: p.id,
          payload: outboxPayload,
          traceparent,
          createdAt: new Date(row.created_at),
        };
        return { payment, outbox };
      }),
    );
  }

  /** Not inserted: its idempotency key was taken, by an earlier call or by another in the same batch. */
  private async existingFor(p: NewPayment): Promise<PaymentRow> {
    const existing =
      p.idempotencyKey === null ? undefined : await this.findByIdempotencyKey(p.userId, p.idempotencyKey);
    if (!existing) throw new Error(`payment ${p.id} was neither inserted nor found by its idempotency key`);
    return existing;
  }

  private async findByIdempotencyKey(userId: UserId, key: string): Promise<PaymentRow | undefined> {
    const [row] = await this.db
      .select()
      .from(schema.payments)
      .where(and(eq(schema.payments.userId, userId), eq(schema.payments.idempotencyKey, key)));
    return row;
  }

  /** A payment only if it is the caller's: another user's payment is indistinguishable from none. */
  async findOwned(id: PaymentId, userId: UserId): Promise<PaymentRow | undefined> {
    const [row] = await this.db
      .select()
      .from(schema.payments)
      .where(and(eq(schema.payments.id, id), eq(schema.payments.userId, userId)));
    return row;
  }

  /** Newest first, keyset-paginated on (created_at, id) so pages stay stable while payments arrive. */
  async listOwned(
    userId: UserId,
    opts: { first: number; after?: { createdAt: Date; id: PaymentId }; status?: PaymentStatus },
  ): Promise<{ rows: PaymentRow[]; hasNextPage: boolean; totalCount: number }> {
    const filters: SQL[] = [eq(schema.payments.userId, userId)];
    if (opts.status) filters.push(eq(schema.payments.status, opts.status));
    const total = this.db
      .select({ n: count() })
      .from(schema.payments)
      .where(and(...filters));
    if (opts.after) {
      const { createdAt, id } = opts.after;
      filters.push(
        or(
          lt(schema.payments.createdAt, createdAt),
          and(eq(schema.payments.createdAt, createdAt), lt(schema.payments.id, id)),
        )!,
      );
    }
    const [rows, [counted]] = await Promise.all([
      this.db
        .select()
        .from(schema.payments)
        .where(and(...filters))
        .orderBy(desc(schema.payments.createdAt), desc(schema.payments.id))
        .limit(opts.first + 1),
      total,
    ]);
    return { rows: rows.slice(0, opts.first), hasNextPage: rows.length > opts.first, totalCount: counted?.n ?? 0 };
  }

  /** Outbox rows nobody published yet, locked so another replica's relay skips them; how many were claimed. */
  async claimOutbox(
    olderThanMs: number,
    limit: number,
    publish: (rows: OutboxRow[]) => Promise<SentRows>,
  ): Promise<number | undefined> {
    const claimed = await inTransaction(this.db, schema, async (tx) => {
      const rows = await tx
        .select()
        .from(schema.outbox)
        .where(lt(schema.outbox.createdAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`))
        .orderBy(schema.outbox.id)
        .limit(limit)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return undefined;
      return { count: rows.length, created: await this.markSent(await publish(rows), tx) };
    });
    // Counted once the transaction committed: a rolled back one changed nothing.
    this.reportChanges('CREATED', claimed?.created ?? []);
    return claimed?.count;
  }

  /** After the broker's ack: the messages are out, and the published payments move NEW → CREATED (never back). */
  async completeOutbox(sent: SentRows): Promise<void> {
    this.reportChanges('CREATED', await this.markSent(sent));
  }

  /** Who owns each of these payments; an unknown id is absent. */
  async ownersOf(ids: readonly PaymentId[]): Promise<Map<PaymentId, UserId>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .select({ id: schema.payments.id, userId: schema.payments.userId })
      .from(schema.payments)
      .where(inArray(schema.payments.id, [...ids]));
    return new Map(rows.map((r) => [r.id as PaymentId, r.userId]));
  }

  /**
   * Deletes the sent rows and marks the published ones' payments CREATED (a parked one's ERROR
   * comes back through `status-payments`); returns the currencies of those that moved. In the
   * sweeper's transaction (`tx`), or prepared on the pool for the fast path.
   */
  private async markSent(sent: SentRows, tx?: Pick<Db, 'execute'>): Promise<Array<{ currency: string }>> {
    const rows = [...sent.published, ...sent.parked];
    if (rows.length === 0) return [];
    // One statement: one commit (and one WAL flush) per published batch, not two.
    const query = sql`WITH published AS (DELETE FROM gateway.outbox WHERE id = ANY(${pgArray(rows.map((r) => r.id))}::bigint[]))
          UPDATE gateway.payments SET status = 'CREATED', status_seq = 1, updated_at = now()
          WHERE id = ANY(${pgArray(sent.published.map((r) => r.messageKey))}::uuid[]) AND status = 'NEW' RETURNING currency`;
    if (tx) return (await tx.execute<{ currency: string }>(query)).rows;
    return runPrepared<{ currency: string }>(this.db.$client, 'gateway-mark-published', query);
  }

  private reportChanges(status: PaymentStatus, changed: Array<{ currency: string }>): void {
    for (const row of changed) this.onStatusChange(status, row.currency);
  }

  /** Rows waiting in the outbox: what the relay has yet to publish. */
  async outboxBacklog(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(schema.outbox);
    return row?.n ?? 0;
  }

  /**
   * Applies status events in one statement, forward only: an event whose sequence is not above
   * the stored one (stale, duplicate, or after a terminal status) changes nothing.
   */
  async applyStatuses(events: StatusUpdate[]): Promise<number> {
    const latest = new Map<PaymentId, StatusUpdate>();
    // One row per payment, or UPDATE ... FROM would pick an arbitrary one; on a tie the earlier event wins.
    for (const e of events) if ((latest.get(e.paymentId)?.seq ?? -1) < e.seq) latest.set(e.paymentId, e);
    if (latest.size === 0) return 0;
    const rows = JSON.stringify(
      [...latest.values()].map((e) => ({ id: e.paymentId, status: e.status, reason: e.reason, seq: e.seq })),
    );
    // The `= ANY` list repeats the batch's keys for the planner (BATCH_KEYS in common/db.ts).
    const changed = await runPrepared<{ status: PaymentStatus; currency: string }>(
      this.db.$client,
      'gateway-apply-statuses',
      sql`
      UPDATE gateway.payments AS p
         SET status = v.status, reason = v.reason, status_seq = v.seq, updated_at = now()
        FROM jsonb_to_recordset(${rows}::jsonb) AS v(id uuid, status text, reason text, seq int)
       WHERE p.id = ANY(${pgArray([...latest.keys()])}::uuid[]) AND p.id = v.id AND v.seq > p.status_seq
      RETURNING p.status, p.currency`,
    );
    for (const row of changed) this.onStatusChange(row.status, row.currency);
    return changed.length;
  }
}

/** What became of outbox rows sent to Kafka: published, or parked in the DLQ because they do not read as a payment. */
export interface SentRows {
  published: OutboxRow[];
  parked: OutboxRow[];
}

export interface StatusUpdate {
  paymentId: PaymentId;
  status: PaymentStatus;
  reason: string | null;
  seq: number;
}

const blockedAccount = (): ApiError => new ApiError('FORBIDDEN', 'this account is blocked');
