import { z } from 'zod';
import { backoffMs, DEFAULT_BACKOFF } from '../../common/backoff';
import type { UserId } from '../../common/ids';
import type { Logger } from '../../common/logger';
import { sleep } from '../../common/sleep';
import { SERVICE_TOKEN_HEADER } from '../../common/service-token';
import { traceHeaders } from '../../common/tracing';

export type UserStatus = 'ACTIVE' | 'BLOCKED';

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

const userBody = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  userName: z.string(),
  status: z.enum(['ACTIVE', 'BLOCKED']),
});

/** A failure worth another attempt (network, timeout, 5xx), as opposed to an answer. */
class Retryable extends Error {}

/** Reads a user's auth data from the gateway's internal REST endpoint. */
export class GatewayUsers implements UserDirectory {
  private turn = 0;

  constructor(private readonly options: GatewayUsersOptions) {}

  async lookup(userId: UserId): Promise<UserLookup> {
    const { baseUrls, retries, retryBaseMs, logger } = this.options;
    // Lookups start at successive gateways; a lookup's own attempts then walk on from its start,
    // so a second attempt always asks another replica than the first.
    const first = this.turn++;
    let lastError = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt, { baseMs: retryBaseMs, maxMs: DEFAULT_BACKOFF.maxMs }));
      try {
        return await this.attempt(userId, baseUrls[(first + attempt) % baseUrls.length]!);
      } catch (e) {
        lastError = (e as Error).message;
        if (!(e instanceof Retryable)) break;
        logger.warn({ userId, attempt, err: lastError }, 'gateway user lookup failed');
      }
    }
    return { kind: 'unavailable', error: lastError };
  }

  private async attempt(userId: UserId, baseUrl: string): Promise<UserLookup> {
    const { serviceToken, timeoutMs } = this.options;
    let res: Response;
    try {
      res = await fetch(new URL(`/internal/users/${encodeURIComponent(userId)}`, baseUrl), {
        headers: { [SERVICE_TOKEN_HEADER]: serviceToken, accept: 'application/json', ...traceHeaders() },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new Retryable(`gateway unreachable: ${(e as Error).message}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return { kind: 'unknown' };
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      throw new Retryable(`gateway answered ${res.status}`);
    }
    if (res.status !== 200) {
      // 401/403 is a configuration problem (wrong token); asking again will not fix it.
      await res.body?.cancel();
      throw new Error(`gateway answered ${res.status}`);
    }
    const parsed = userBody.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new Error(`gateway sent an unexpected user body: ${parsed.error.message}`);
    return {
      kind: 'found',
      userId: parsed.data.id as UserId,
      userName: parsed.data.userName,
      status: parsed.data.status,
    };
  }
}
