import { backoffMs, DEFAULT_BACKOFF } from '../../common/backoff';
import type { UserId } from '../../common/ids';
import type { Logger } from '../../common/logger';
import { sleep } from '../../common/sleep';
import { SERVICE_TOKEN_HEADER } from '../../common/service-token';
import { traceHeaders } from '../../common/tracing';
import { Batcher } from '../../common/batcher';
import { MAX_USER_LOOKUP_IDS, USER_LOOKUP_PATH, userLookupAnswer, type UserStatus } from '../../common/user-lookup';
import { postJson } from './post-json';

/** What the gateway said about a user; `unavailable` means it could not be asked, not that the user is bad. */
export type UserLookup =
  | { kind: 'found'; userId: UserId; userName: string; status: UserStatus }
  | { kind: 'unknown' }
  | { kind: 'unavailable'; error: string };

export interface UserDirectory {
  lookup(userId: UserId): Promise<UserLookup>;
}

export interface GatewayUsersOptions {
  /** One gateway, or several replicas: each attempt asks the next, so a replica that is down costs one attempt, not the lookup. */
  baseUrls: string[];
  serviceToken: string;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  logger: Logger;
}

type Found = Extract<UserLookup, { kind: 'found' }>;

/** A failure worth another attempt (network, timeout, 5xx), as opposed to an answer. */
class Retryable extends Error {}

/**
 * Reads users' auth data from the gateway's internal REST API. Lookups made while others are on
 * the wire share the next request (USER_LOOKUP_PATH), so a chunk of debits costs the gateway a
 * request or two, not one each.
 */
export class GatewayUsers implements UserDirectory {
  private turn = 0;
  // Four in flight: while the gateway hangs, each request holds its slot for its whole retry chain.
  private readonly batcher = new Batcher<UserId, UserLookup>((ids) => this.lookupMany(ids), MAX_USER_LOOKUP_IDS, 4);

  constructor(private readonly options: GatewayUsersOptions) {}

  lookup(userId: UserId): Promise<UserLookup> {
    return this.batcher.submit(userId);
  }

  /**
   * A gateway that cannot be asked (down, timing out, 5xx) makes every lookup of the batch
   * `unavailable`. A refusal of the request itself rejects a shared batch, which the Batcher then
   * asks again one user at a time, so only a lookup at fault is `unavailable` for it.
   */
  private async lookupMany(ids: UserId[]): Promise<UserLookup[]> {
    const { baseUrls, retries, retryBaseMs, logger } = this.options;
    // Requests start at successive gateways; a request's own attempts then walk on from its start,
    // so a second attempt always asks another replica than the first.
    const first = this.turn++;
    let lastError = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt, { baseMs: retryBaseMs, maxMs: DEFAULT_BACKOFF.maxMs }));
      try {
        const found = await this.attempt(ids, baseUrls[(first + attempt) % baseUrls.length]!);
        return ids.map((id) => found.get(id) ?? { kind: 'unknown' });
      } catch (e) {
        lastError = (e as Error).message;
        if (!(e instanceof Retryable)) {
          if (ids.length > 1) throw e;
          break;
        }
        logger.warn({ users: ids.length, attempt, err: lastError }, 'gateway user lookup failed');
      }
    }
    return ids.map(() => ({ kind: 'unavailable', error: lastError }));
  }

  private async attempt(ids: UserId[], baseUrl: string): Promise<Map<string, Found>> {
    const { serviceToken, timeoutMs } = this.options;
    const headers = { [SERVICE_TOKEN_HEADER]: serviceToken, accept: 'application/json', ...traceHeaders() };
    const res = await postJson(new URL(USER_LOOKUP_PATH, baseUrl), headers, JSON.stringify({ ids }), timeoutMs);
    // Unreachable, timed out, or an answer cut off on the way: the network's fault, not the gateway's answer.
    if (res.kind === 'lost') throw new Retryable(`gateway unreachable: ${res.error}`);
    if (res.status >= 500 || res.status === 429) throw new Retryable(`gateway answered ${res.status}`);
    // 400/401/403 is a bug or a configuration problem (wrong token); asking again will not fix it.
    if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      // Not JSON: the schema check below refuses it as an unexpected body.
    }
    const parsed = userLookupAnswer.safeParse(body);
    if (!parsed.success) throw new Error(`gateway sent an unexpected lookup body: ${parsed.error.message}`);
    return new Map(
      parsed.data.users.map((u) => [
        u.id,
        { kind: 'found', userId: u.id, userName: u.userName, status: u.status } satisfies Found,
      ]),
    );
  }
}
