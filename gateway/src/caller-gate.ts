import type { UserId } from '../../common/ids';
import type { Caller } from './auth';
import { GatewayError } from './errors';
import type { PaymentStore } from './payment-store';
import type { RateLimiter } from './rate-limiter';

/** What an operation spends of the caller's per-minute budget: reads are cheap, writes are not. */
export const OPERATION_COST = { read: 1, write: 2 } as const;
export type OperationWeight = keyof typeof OPERATION_COST;

/**
 * The door every user operation goes through, whichever transport brought it: it charges the
 * caller's rate budget, then resolves who they are (a blocked user is refused there).
 */
export class CallerGate {
  constructor(
    private readonly store: PaymentStore,
    private readonly limiter: RateLimiter,
  ) {}

  async admit(caller: Caller, weight: OperationWeight): Promise<UserId> {
    const wait = this.limiter.take(caller.userName, OPERATION_COST[weight]);
    if (wait > 0) throw new GatewayError('RATE_LIMITED', `too many requests; retry in ${wait} s`, wait);
    return this.store.userIdFor(caller.userName);
  }
}
