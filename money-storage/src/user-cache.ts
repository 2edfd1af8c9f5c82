import type { UserId } from '../../common/ids';
import type { UserDirectory, UserLookup } from './gateway-users';

interface Entry {
  value: UserLookup;
  expiresAt: number;
}

/**
 * Remembers answers for `ttlMs` and coalesces concurrent lookups of one user into one request,
 * so a burst of payments by one user costs the gateway one call. `unavailable` is never cached:
 * the next command should try again.
 */
export class CachedUserDirectory implements UserDirectory {
  private readonly entries = new Map<UserId, Entry>();
  private readonly inFlight = new Map<UserId, Promise<UserLookup>>();

  constructor(
    private readonly source: UserDirectory,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(userId: UserId): Promise<UserLookup> {
    const cached = this.entries.get(userId);
    if (cached && cached.expiresAt > this.now()) return Promise.resolve(cached.value);
    if (cached) this.entries.delete(userId);
    const pending = this.inFlight.get(userId);
    if (pending) return pending;
    const request = this.source.lookup(userId).then((value) => {
      if (value.kind !== 'unavailable' && this.ttlMs > 0) this.remember(userId, value);
      return value;
    });
    this.inFlight.set(userId, request);
    void request.finally(() => this.inFlight.delete(userId)).catch(() => undefined);
    return request;
  }

  private remember(userId: UserId, value: UserLookup): void {
    // Map keeps insertion order, so the first key is the oldest entry.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(userId, { value, expiresAt: this.now() + this.ttlMs });
  }
}
