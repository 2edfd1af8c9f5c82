import type { Queryable, Violation } from './checks';

interface Credit {
  operation_id: string;
  user_id: string;
  currency: string;
  amount: string;
}
interface Request extends Credit {
  outcome: string | null;
}

const CREDITS_SQL = `
  SELECT operation_id, user_id::text AS user_id, currency, amount::text AS amount
  FROM money.ledger_entries WHERE purpose = 'DEPOSIT'`;

/**
 * Money coming in, across the two databases: every deposit credited in the ledger was asked for
 * (a row in gateway.deposits, written before its command is sent) with the same account and
 * amount, and every deposit the gateway heard APPLIED is in the ledger. The ledger is read first:
 * a credit it holds then has its request already. A deposit heard APPLIED meanwhile is looked up
 * again before it counts as missing.
 */
export async function depositViolations(money: Queryable, gateway: Queryable): Promise<Violation[]> {
  const credits = new Map((await money.query<Credit>(CREDITS_SQL)).rows.map((c) => [c.operation_id, c]));
  const requests = (
    await gateway.query<Request>(
      `SELECT operation_id, user_id::text AS user_id, currency, amount::text AS amount, outcome FROM gateway.deposits`,
    )
  ).rows;
  const asked = new Set(requests.map((r) => r.operation_id));
  const violations: Violation[] = [];
  for (const credit of credits.values())
    if (!asked.has(credit.operation_id)) violations.push({ kind: 'DEPOSIT_WITHOUT_REQUEST', detail: { ...credit } });
  for (const request of requests) {
    const credit = credits.get(request.operation_id);
    // Credited, yet answered REJECTED or FAILED to the gateway: a stored answer never changes.
    if (credit && (!sameMovement(credit, request) || (request.outcome !== null && request.outcome !== 'APPLIED')))
      violations.push({ kind: 'DEPOSIT_MISMATCH', detail: mismatch(request, credit) });
  }
  const missing = requests.filter((r) => r.outcome === 'APPLIED' && !credits.has(r.operation_id));
  const late = await creditsOf(money, missing);
  for (const request of missing)
    if (!late.has(request.operation_id)) violations.push({ kind: 'DEPOSIT_NOT_CREDITED', detail: { ...request } });
  return violations;
}

const sameMovement = (a: Credit, b: Credit): boolean =>
  a.user_id === b.user_id && a.currency === b.currency && a.amount === b.amount;

const mismatch = (request: Request, credit: Credit): Violation['detail'] => ({
  operationId: request.operation_id,
  requestedUser: request.user_id,
  creditedUser: credit.user_id,
  requested: `${request.amount} ${request.currency}`,
  credited: `${credit.amount} ${credit.currency}`,
  outcome: request.outcome,
});

async function creditsOf(money: Queryable, requests: Request[]): Promise<Set<string>> {
  if (requests.length === 0) return new Set();
  const { rows } = await money.query<{ operation_id: string }>(
    `SELECT operation_id FROM money.ledger_entries WHERE purpose = 'DEPOSIT' AND operation_id = ANY($1::text[])`,
    [requests.map((r) => r.operation_id)],
  );
  return new Set(rows.map((r) => r.operation_id));
}
