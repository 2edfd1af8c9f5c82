import type { Queryable, Violation } from './checks';

/** Money taken for no payment: every debit money-storage makes is a payment's. */
const DEBITS_WITHOUT_PAYMENT_SQL = `
  SELECT operation_id, user_id::text AS user_id, currency, amount::text AS amount
  FROM money.ledger_entries WHERE kind = 'DEBIT' AND payment_id IS NULL`;

/**
 * A compensation gives back exactly its debit: a credit of the debit's amount, to the same account.
 * One that reverses nothing, or not a debit, or another amount or account, is money from nowhere.
 */
const BAD_COMPENSATIONS_SQL = `
  SELECT c.operation_id, c.reverses, c.amount::text AS amount, d.amount::text AS debit_amount
  FROM money.ledger_entries c
  LEFT JOIN money.ledger_entries d ON d.operation_id = c.reverses
  WHERE (c.purpose = 'COMPENSATION' OR c.reverses IS NOT NULL)
    AND (c.reverses IS NULL OR d.id IS NULL OR d.kind <> 'DEBIT' OR c.kind <> 'CREDIT'
         OR c.amount <> -d.amount OR c.user_id <> d.user_id OR c.currency <> d.currency)`;

/** Money-storage writes four kinds of entry; any other pair of kind and purpose came from elsewhere. */
const FOREIGN_ENTRIES_SQL = `
  SELECT operation_id, kind, purpose, amount::text AS amount
  FROM money.ledger_entries
  WHERE (kind, purpose) NOT IN (('DEBIT', 'PAYMENT'), ('CREDIT', 'DEPOSIT'), ('CREDIT', 'COMPENSATION'), ('CREDIT', 'OPENING'))
     OR (kind = 'DEBIT') <> (amount < 0)`;

/** A debit both made final (its payment may complete) and given back: the two exclude each other. */
const SETTLED_AND_REVERSED_SQL = `
  SELECT operation_id, payment_id::text AS payment_id, reversed_by
  FROM money.processed_operations WHERE settled_at IS NOT NULL AND reversed_by IS NOT NULL`;

/** The ledger's own rules, which balances that add up do not show. */
export async function ledgerViolations(money: Queryable): Promise<Violation[]> {
  const [unpaid, compensations, both, foreign] = await Promise.all([
    money.query<{ operation_id: string; user_id: string; currency: string; amount: string }>(
      DEBITS_WITHOUT_PAYMENT_SQL,
    ),
    money.query<{ operation_id: string; reverses: string | null; amount: string; debit_amount: string | null }>(
      BAD_COMPENSATIONS_SQL,
    ),
    money.query<{ operation_id: string; payment_id: string | null; reversed_by: string }>(SETTLED_AND_REVERSED_SQL),
    money.query<{ operation_id: string; kind: string; purpose: string; amount: string }>(FOREIGN_ENTRIES_SQL),
  ]);
  return [
    ...unpaid.rows.map((r) => ({ kind: 'DEBIT_WITHOUT_PAYMENT' as const, detail: { ...r } })),
    ...compensations.rows.map((r) => ({ kind: 'BAD_COMPENSATION' as const, detail: { ...r } })),
    ...both.rows.map((r) => ({ kind: 'SETTLED_DEBIT_REVERSED' as const, detail: { ...r } })),
    ...foreign.rows.map((r) => ({ kind: 'FOREIGN_ENTRY' as const, detail: { ...r } })),
  ];
}
