import { createHash } from 'node:crypto';
import { publish } from '../../common/kafka/client';
import type { OperationOutcome } from '../../common/kafka/contracts';
import { depositCommand } from '../../common/kafka/messages';
import type { Sender } from '../../common/kafka/self-healing-producer';
import { withTimeout } from '../../common/with-timeout';
import type { TopicNames } from '../../common/kafka/topics';
import { asOperationId, type OperationId, type UserId } from '../../common/ids';
import type { Logger } from '../../common/logger';
import type { Currency } from '../../common/money';
import { isValidUserName, type Caller } from './auth';
import type { CallerGate } from './caller-gate';
import type { DepositRow, DepositStore } from './deposit-store';
import { badInput, unavailable } from './errors';
import { LEDGER_ENTRY_ID, MAX_LEDGER_PAGE } from '../../common/ledger-page';
import { DEFAULT_PAGE } from './payment-service';
import { checkFirst, checkIdempotencyKey, checkMoney, decodeCursor, encodeCursor } from './inputs';
import type { AccountBalance, LedgerPage, MoneyStorageClient } from './money-storage-client';
import type { PaymentStore } from './payment-store';
import type { RateLimiter } from './rate-limiter';
import { ApiError } from '../../common/api-error';

export interface MoneyServiceParts {
  store: PaymentStore;
  deposits: DepositStore;
  gate: CallerGate;
  moneyStorage: MoneyStorageClient;
  producer: Sender;
  names: TopicNames;
  /**
   * The producer's own send timeout: a credit waits as long as its send may still be handed to
   * Kafka, so one answered UNAVAILABLE is never sent for the first time afterwards.
   */
  sendTimeoutMs: number;
  /** Largest self-service deposit in minor units; 0 turns self-service deposits off. */
  selfDepositMax: number;
  /** Self-service deposits per user per minute, on top of the general rate limit. */
  selfDeposits: RateLimiter;
  logger: Logger;
}

export interface CreditView {
  operationId: OperationId;
  userName: string;
  amount: number;
  currency: Currency;
  status: 'ACCEPTED';
}

type MoneyInput = { amount: unknown; currency: unknown; idempotencyKey?: unknown };
const CREDIT_ID = /^deposit:[0-9a-f]{64}$/;

export interface CreditRecord {
  operationId: string;
  userName: string;
  /** Only for the one who asked. */
  requestedBy: string | null;
  channel: DepositRow['channel'];
  amount: number;
  currency: Currency;
  status: 'PENDING' | OperationOutcome;
  reason: string | null;
  requestedAt: Date;
  decidedAt: Date | null;
}

/**
 * Money entering the system and what a user can see of their money. Money only comes from an
 * operator's credit, or, as a development convenience, from a capped self-service deposit.
 */
export class MoneyService {
  constructor(private readonly p: MoneyServiceParts) {}

  async deposit(caller: Caller, input: MoneyInput): Promise<CreditView> {
    this.p.gate.charge(caller, 'write');
    const { amount, currency } = checkMoney(input.amount, input.currency);
    const key = requiredKey(input.idempotencyKey);
    if (this.p.selfDepositMax <= 0)
      throw new ApiError('FORBIDDEN', 'self-service deposits are turned off; an operator credits accounts');
    if (amount > this.p.selfDepositMax) throw badInput(`a self-service deposit is at most ${this.p.selfDepositMax}`);
    const wait = this.p.selfDeposits.take(caller.userName);
    if (wait > 0)
      throw new ApiError('RATE_LIMITED', `too many deposits; retry in ${wait} s`, { retryAfterSeconds: wait });
    const userId = await this.p.gate.userId(caller);
    return this.credit(caller, { userId, userName: caller.userName }, 'SELF', { amount, currency, key });
  }

  /** An operator credits a named user's account; every credit is in the audit log and the deposits table. */
  async creditAccount(caller: Caller, input: MoneyInput & { userName: unknown }): Promise<CreditView> {
    this.p.gate.charge(caller, 'write');
    if (!caller.roles.includes('operator')) throw new ApiError('FORBIDDEN', 'only an operator may credit accounts');
    const { amount, currency } = checkMoney(input.amount, input.currency);
    const key = requiredKey(input.idempotencyKey);
    if (typeof input.userName !== 'string' || !isValidUserName(input.userName))
      throw badInput('userName is not a valid user name');
    // Four eyes: the role is read from a token, so whoever holds one must not pay themselves with it.
    if (input.userName === caller.userName)
      throw new ApiError('FORBIDDEN', 'an operator may not credit their own account');
    await this.p.gate.userId(caller);
    const target = await this.p.store.findUserByName(input.userName);
    if (!target) throw new ApiError('NOT_FOUND', 'no such user');
    const credit = await this.credit(caller, { userId: target.id, userName: target.userName }, 'OPERATOR', {
      amount,
      currency,
      key,
    });
    this.p.logger.info(
      {
        audit: 'credit',
        operator: caller.userName,
        userName: target.userName,
        userId: target.id,
        amount,
        currency,
        operationId: credit.operationId,
      },
      'operator credited an account',
    );
    return credit;
  }

  /** A credit's state, for whoever received or asked for it: PENDING until money-storage answers. */
  async creditRecord(caller: Caller, operationId: unknown): Promise<CreditRecord | null> {
    this.p.gate.charge(caller, 'read');
    if (typeof operationId !== 'string' || !CREDIT_ID.test(operationId)) return null;
    const row = await this.p.deposits.findVisible(operationId, await this.p.gate.userId(caller), caller.userName);
    if (!row) return null;
    // Which operator credited them is staff business: a payee sees the channel, not the name.
    const requestedBy = row.requestedBy === caller.userName ? row.requestedBy : null;
    const { operationId: id, userName, channel, amount, currency, reason, createdAt, decidedAt, outcome } = row;
    return {
      operationId: id,
      userName,
      requestedBy,
      channel,
      amount,
      currency,
      status: outcome ?? 'PENDING',
      reason,
      requestedAt: createdAt,
      decidedAt,
    };
  }

  async accounts(caller: Caller): Promise<AccountBalance[]> {
    this.p.gate.charge(caller, 'read');
    return this.p.moneyStorage.accounts(await this.p.gate.userId(caller));
  }

  async ledger(
    caller: Caller,
    args: { first?: unknown; after?: unknown },
  ): Promise<{
    edges: Array<{ cursor: string; node: LedgerPage['entries'][number] }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  }> {
    this.p.gate.charge(caller, 'read');
    const first = checkFirst(args.first, DEFAULT_PAGE, MAX_LEDGER_PAGE);
    const after =
      args.after === undefined || args.after === null ? undefined : decodeCursor(args.after, [LEDGER_ENTRY_ID])[0];
    const page = await this.p.moneyStorage.ledger(await this.p.gate.userId(caller), first, after);
    const edges = page.entries.map((node) => ({ cursor: encodeCursor([node.id]), node }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  /**
   * Records the request (the conflict check and the audit trail), then sends the command. A
   * retry with the same key finds the same row and re-sends the same operation id, which
   * money-storage applies once; that is also how a send lost to a broker outage is recovered.
   */
  private async credit(
    caller: Caller,
    to: { userId: UserId; userName: string },
    channel: DepositRow['channel'],
    m: { amount: number; currency: Currency; key: string },
  ): Promise<CreditView> {
    const operationId = creditOperationId(caller.userName, m.key);
    const stored = await this.p.deposits.record({
      operationId,
      userId: to.userId,
      requestedBy: caller.userName,
      channel,
      idempotencyKey: m.key,
      amount: m.amount,
      currency: m.currency,
    });
    if (stored.userId !== to.userId || stored.amount !== m.amount || stored.currency !== m.currency) {
      throw new ApiError('CONFLICT', 'this idempotencyKey was used for a credit with other parameters');
    }
    const value = depositCommand(operationId, { userId: to.userId, amount: m.amount, currency: m.currency });
    await withTimeout(
      publish(this.p.producer, this.p.names, 'moneyOperations', [{ key: operationId, value }]),
      this.p.sendTimeoutMs,
      'credit',
    ).catch((e: unknown) => {
      throw unavailable('crediting', e);
    });
    return { operationId, userName: to.userName, amount: m.amount, currency: m.currency, status: 'ACCEPTED' };
  }
}

/**
 * A credit's send may time out and still land, so a retry must carry the same operation id: the
 * key is what makes it the same, hence never optional for money coming in.
 */
function requiredKey(key: unknown): string {
  const checked = checkIdempotencyKey(key);
  if (checked === null) throw badInput('idempotencyKey is required for a credit or a deposit');
  return checked;
}

/**
 * Derived, never concatenated from client input: a hash of who asks and their key, so the id has
 * one fixed, safe shape whatever the key, two requesters' keys never collide, and a key reused
 * for another user or amount lands on the same row and is seen as a conflict.
 */
function creditOperationId(requestedBy: string, key: string): OperationId {
  return asOperationId(`deposit:${createHash('sha256').update(`${requestedBy}\n${key}`).digest('hex')}`);
}
