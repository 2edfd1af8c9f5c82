import { z } from 'zod';
import type { UserId } from '../../common/ids';
import { SERVICE_TOKEN_HEADER } from '../../common/service-token';
import { CURRENCIES, type Currency } from '../../common/money';
import { traceHeaders } from '../../common/tracing';
import { unavailable } from './errors';

export interface AccountBalance {
  currency: Currency;
  /** Exact minor units as a decimal string: balances are bigint. */
  balance: string;
}

const decimal = z.string().regex(/^-?[0-9]+$/);
const accountsBody = z.object({ accounts: z.array(z.object({ currency: z.enum(CURRENCIES), balance: decimal })) });
const ledgerBody = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      operationId: z.string(),
      kind: z.enum(['DEBIT', 'CREDIT']),
      purpose: z.string(),
      paymentId: z.string().nullable(),
      currency: z.enum(CURRENCIES),
      amount: decimal,
      balanceAfter: decimal,
      at: z.iso.datetime(),
    }),
  ),
  hasNextPage: z.boolean(),
});
export type LedgerPage = z.output<typeof ledgerBody>;

/** Reads balances and statements from money-storage's internal API, which owns them. */
export class MoneyStorageClient {
  constructor(
    private readonly baseUrl: string,
    private readonly serviceToken: string,
    private readonly timeoutMs = 2000,
  ) {}

  async accounts(userId: UserId): Promise<AccountBalance[]> {
    return (await this.get(`/internal/accounts/${userId}`, accountsBody, 'balances')).accounts;
  }

  /** `after` is the id of the last entry of the previous page. */
  ledger(userId: UserId, first: number, after?: string): Promise<LedgerPage> {
    const query = new URLSearchParams({ first: String(first), ...(after ? { after } : {}) });
    return this.get(`/internal/ledger/${userId}?${query.toString()}`, ledgerBody, 'the ledger');
  }

  /** Any failure to get a well-formed answer is an outage from the caller's point of view. */
  private async get<T>(path: string, body: z.ZodType<T>, what: string): Promise<T> {
    try {
      const res = await fetch(new URL(path, this.baseUrl), {
        headers: { [SERVICE_TOKEN_HEADER]: this.serviceToken, ...traceHeaders() },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!res.ok) throw new Error(`money-storage answered ${res.status}`);
      return body.parse(await res.json());
    } catch (e) {
      throw unavailable(what, e);
    }
  }
}
