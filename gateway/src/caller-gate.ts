import type { UserId } from '../../common/ids';
import type { Caller } from './auth';
import type { PaymentStore } from './payment-store';
import type { RateLimiter } from './rate-limiter';
import { ApiError } from '../../common/api-error';

/** What an operation spends of the caller's per-minute budget: reads are cheap, writes are not. */
const OPERATION_COST = { read: 1, write: 2 } as const;
export type OperationWeight = keyof typeof OPERATION_COST;

/**
 * The door every user operation goes through, whichever transport brought it. `charge` comes
 * first, so even a request refused for its input spends budget; `userId` comes after the input is
 * checked, so refused input writes nothing (not even a new user's row).
 */
export class CallerGate {
  constructor(
    private readonly store: PaymentStore,
    private readonly limiter: RateLimiter,
  ) {}

  charge(caller: Caller, weight: OperationWeight): void {
    const wait = this.limiter.take(caller.userName, OPERATION_COST[weight]);
    if (wait > 0)
      throw new ApiError('RATE_LIMITED', `too many requests; retry in ${wait} s`, { retryAfterSeconds: wait });
  }

  /** Who the caller is; a blocked user is refused here. */
  userId(caller: Caller): Promise<UserId> {
    return this.store.userIdFor(caller.userName);
  }

  /** Who pays: the payment's own INSERT refuses a blocked user (see PaymentStore.payerIdFor). */
  payerId(caller: Caller): Promise<UserId> {
    return this.store.payerIdFor(caller.userName);
  }
}
