import type { UserId } from '../../common/ids';
import { isCurrency, type Currency } from '../../common/money';
import { GatewayError } from './errors';

export interface AccountBalance {
  currency: Currency;
  /** Exact minor units as a decimal string: balances are bigint. */
  balance: string;
}

/** Reads balances from money-storage's internal API, which owns them. */
export class MoneyStorageClient {
  constructor(
    private readonly baseUrl: string,
    private readonly serviceToken: string,
    private readonly timeoutMs = 2000,
  ) {}

  async accounts(userId: UserId): Promise<AccountBalance[]> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/internal/accounts/${userId}`, {
        headers: { 'x-service-token': this.serviceToken },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new GatewayError('SERVICE_UNAVAILABLE', 'balances are unavailable right now');
    }
    if (res.status === 404) return [];
    if (!res.ok) throw new GatewayError('SERVICE_UNAVAILABLE', 'balances are unavailable right now');
    const body = (await res.json()) as { accounts?: Array<{ currency: string; balance: string }> };
    return (body.accounts ?? []).filter((a): a is AccountBalance => isCurrency(a.currency) && /^[0-9]+$/.test(String(a.balance)));
  }
}
