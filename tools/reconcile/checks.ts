import type pg from 'pg';
import { TERMINAL_STATUSES } from '../../common/payment-status';
import { depositViolations } from './deposit-checks';
import { ledgerViolations } from './ledger-checks';

/** Anything with pg's `query`: a Pool or a Client. */
export type Queryable = Pick<pg.Pool, 'query'>;

export type ViolationKind =
  | 'COMPLETED_WITHOUT_DEBIT'
  | 'COMPLETED_WITH_SEVERAL_DEBITS'
  | 'DEBIT_AMOUNT_MISMATCH'
  | 'DEBIT_ACCOUNT_MISMATCH'
  | 'DEBIT_WITHOUT_PAYMENT'
  | 'BAD_COMPENSATION'
  | 'SETTLED_DEBIT_REVERSED'
  | 'FOREIGN_ENTRY'
  | 'DEPOSIT_WITHOUT_REQUEST'
  | 'DEPOSIT_MISMATCH'
  | 'DEPOSIT_NOT_CREDITED'
  | 'COMPLETED_WITH_UNSETTLED_DEBIT'
  | 'DEBIT_WITHOUT_COMPLETED_PAYMENT'
  | 'LEDGER_BALANCE_MISMATCH'
  | 'NEGATIVE_BALANCE'
  | 'PAYMENT_NOT_FINISHED';

export interface Violation {
  kind: ViolationKind;
  detail: Record<string, string | number | null>;
}

export interface ReconcileReport {
  ok: boolean;
  checkedAt: string;
  unfinishedAfterSeconds: number;
  stats: {
    completedPayments: number;
    paymentsWithNetDebit: number;
    accounts: number;
    ledgerEntries: number;
    /** Payments short of a terminal status longer than `unfinishedAfterSeconds`; the oldest are listed as violations. */
    unfinishedPayments: number;
  };
  /** Debited payments still in flight (not terminal yet): expected while traffic runs, not a violation. */
  inFlightDebited: string[];
  violations: Violation[];
}

interface NetDebit {
  payment_id: string;
  debits: number;
  amount: string;
  /** The accounts debited, as `user_id currency`, comma-separated when several. */
  accounts: string;
}
interface Payment {
  id: string;
  status: string;
  amount: number;
  /** The payer's account, as `user_id currency`. */
  account: string;
}

const PAYMENT_COLUMNS = `id::text AS id, status, amount, user_id::text || ' ' || currency AS account`;

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

/**
 * How long a payment may stay short of a terminal status before it counts as lost: a payment takes
 * seconds (two 0.5–5 s delays and the hops between), and a pipeline that was stopped for minutes
 * catches up soon after it is back. One still unfinished after this is the invariant "every
 * acknowledged payment reaches a terminal status" failing, or a stage that stalled.
 */
export const UNFINISHED_AFTER_SECONDS = 900;

/** The oldest unfinished payments listed one by one; the rest are counted (a stalled pipeline may hold millions). */
const UNFINISHED_LISTED = 100;

const UNFINISHED_SQL = `
  SELECT id::text AS id, status, created_at, count(*) OVER ()::int AS total
  FROM gateway.payments
  WHERE status <> ALL($1::text[]) AND created_at < now() - make_interval(secs => $2)
  ORDER BY created_at LIMIT ${UNFINISHED_LISTED}`;

/** A debit counts unless a compensation reverses it. */
const NET_DEBITS_SQL = `
  SELECT d.payment_id::text AS payment_id, count(*)::int AS debits, (-sum(d.amount))::text AS amount,
    string_agg(DISTINCT d.user_id::text || ' ' || d.currency, ',') AS accounts
  FROM money.ledger_entries d
  WHERE d.kind = 'DEBIT' AND d.payment_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM money.ledger_entries c WHERE c.reverses = d.operation_id)
  GROUP BY d.payment_id`;

/**
 * A payment may complete only on a settled debit; an unsettled one could still be reversed by a
 * compensation, leaving a COMPLETED payment unpaid. Only unsettled debits are read, not every
 * debit, and they are matched to the completed payments here (the payments may live in another database).
 */
const UNSETTLED_DEBITS_SQL = `
  SELECT payment_id::text AS payment_id, operation_id
  FROM money.processed_operations
  WHERE kind = 'DEBIT' AND outcome = 'APPLIED' AND reversed_by IS NULL AND settled_at IS NULL AND payment_id IS NOT NULL`;

const LEDGER_MISMATCH_SQL = `
  SELECT user_id::text AS user_id, currency, a.balance::text AS balance, coalesce(l.total, 0)::text AS ledger_sum
  FROM money.accounts a
  FULL JOIN (SELECT user_id, currency, sum(amount) AS total FROM money.ledger_entries GROUP BY user_id, currency) l
    USING (user_id, currency)
  WHERE a.balance IS NULL OR a.balance <> coalesce(l.total, 0)`;

/**
 * Checks the invariants between the gateway's payments and money-storage's ledger. The two may live
 * in different databases, so they are read separately and compared here.
 */
export async function reconcile(
  money: Queryable,
  gateway: Queryable,
  unfinishedAfterSeconds = UNFINISHED_AFTER_SECONDS,
): Promise<ReconcileReport> {
  // The gateway first: a payment completes only after its debit was made final, so a COMPLETED read
  // now has its settled debit in the money reads that follow, even while traffic runs.
  const [completed, unfinished] = await Promise.all([
    gateway.query<Payment>(`SELECT ${PAYMENT_COLUMNS} FROM gateway.payments WHERE status = 'COMPLETED'`),
    gateway.query<{ id: string; status: string; created_at: Date; total: number }>(UNFINISHED_SQL, [
      [...TERMINAL],
      unfinishedAfterSeconds,
    ]),
  ]);
  const [netDebits, unsettled, mismatches, negatives, totals, ledgerRules, deposits] = await Promise.all([
    money.query<NetDebit>(NET_DEBITS_SQL),
    money.query<{ payment_id: string; operation_id: string }>(UNSETTLED_DEBITS_SQL),
    money.query<{ user_id: string; currency: string; balance: string | null; ledger_sum: string }>(LEDGER_MISMATCH_SQL),
    money.query<{ user_id: string; currency: string; balance: string }>(
      `SELECT user_id::text AS user_id, currency, balance::text AS balance FROM money.accounts WHERE balance < 0`,
    ),
    money.query<{ accounts: number; entries: number }>(
      `SELECT (SELECT count(*) FROM money.accounts)::int AS accounts, (SELECT count(*) FROM money.ledger_entries)::int AS entries`,
    ),
    ledgerViolations(money),
    depositViolations(money, gateway),
  ]);
  const debitsByPayment = new Map(netDebits.rows.map((d) => [d.payment_id, d]));
  const completedIds = new Set(completed.rows.map((p) => p.id));
  const others = await paymentsByIds(
    gateway,
    [...debitsByPayment.keys()].filter((id) => !completedIds.has(id)),
  );

  const violations: Violation[] = [
    ...completed.rows.flatMap((p) => checkCompleted(p, debitsByPayment.get(p.id))),
    ...unsettled.rows
      .filter((d) => completedIds.has(d.payment_id))
      .map((d) => ({
        kind: 'COMPLETED_WITH_UNSETTLED_DEBIT' as const,
        detail: { paymentId: d.payment_id, debit: d.operation_id },
      })),
    ...mismatches.rows.map((r) => ({ kind: 'LEDGER_BALANCE_MISMATCH' as const, detail: { ...r } })),
    ...negatives.rows.map((r) => ({ kind: 'NEGATIVE_BALANCE' as const, detail: { ...r } })),
    ...ledgerRules,
    ...deposits,
    ...unfinished.rows.map((p) => ({
      kind: 'PAYMENT_NOT_FINISHED' as const,
      detail: { paymentId: p.id, status: p.status, createdAt: p.created_at.toISOString() },
    })),
  ];
  const inFlightDebited: string[] = [];
  for (const debit of netDebits.rows) {
    if (completedIds.has(debit.payment_id)) continue;
    const payment = others.get(debit.payment_id);
    // Completed since the first read: checked on the next run, with its debit's settlement.
    if (payment?.status === 'COMPLETED') continue;
    if (payment && !TERMINAL.has(payment.status)) inFlightDebited.push(payment.id);
    else
      violations.push({
        kind: 'DEBIT_WITHOUT_COMPLETED_PAYMENT',
        detail: { paymentId: debit.payment_id, status: payment?.status ?? null, debits: debit.debits },
      });
  }
  const counts = totals.rows[0] ?? { accounts: 0, entries: 0 };
  return {
    ok: violations.length === 0,
    checkedAt: new Date().toISOString(),
    unfinishedAfterSeconds,
    stats: {
      completedPayments: completed.rows.length,
      paymentsWithNetDebit: netDebits.rows.length,
      accounts: counts.accounts,
      ledgerEntries: counts.entries,
      unfinishedPayments: unfinished.rows[0]?.total ?? 0,
    },
    inFlightDebited,
    violations,
  };
}

function checkCompleted(p: Payment, debit: NetDebit | undefined): Violation[] {
  if (!debit) return [{ kind: 'COMPLETED_WITHOUT_DEBIT', detail: { paymentId: p.id, amount: p.amount } }];
  if (debit.debits > 1)
    return [{ kind: 'COMPLETED_WITH_SEVERAL_DEBITS', detail: { paymentId: p.id, debits: debit.debits } }];
  if (debit.amount !== String(p.amount)) {
    return [
      { kind: 'DEBIT_AMOUNT_MISMATCH', detail: { paymentId: p.id, paymentAmount: p.amount, debited: debit.amount } },
    ];
  }
  // The right sum from the wrong account, or in another currency, is a payment made by someone else.
  if (debit.accounts !== p.account)
    return [{ kind: 'DEBIT_ACCOUNT_MISMATCH', detail: { paymentId: p.id, payer: p.account, debited: debit.accounts } }];
  return [];
}

async function paymentsByIds(gateway: Queryable, ids: string[]): Promise<Map<string, Payment>> {
  if (ids.length === 0) return new Map();
  const { rows } = await gateway.query<Payment>(
    `SELECT ${PAYMENT_COLUMNS} FROM gateway.payments WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((p) => [p.id, p]));
}

/** A table for people; the JSON report is for machines. */
export function formatReport(report: ReconcileReport): string {
  const lines = [
    `reconcile ${report.ok ? 'OK' : 'FAILED'} at ${report.checkedAt}`,
    `  completed payments: ${report.stats.completedPayments}, payments with a net debit: ${report.stats.paymentsWithNetDebit}`,
    `  accounts: ${report.stats.accounts}, ledger entries: ${report.stats.ledgerEntries}, debited and still in flight: ${report.inFlightDebited.length}`,
    `  unfinished for over ${report.unfinishedAfterSeconds} s: ${report.stats.unfinishedPayments}`,
    ...report.violations.map((v) => `  VIOLATION ${v.kind.padEnd(32)} ${JSON.stringify(v.detail)}`),
  ];
  return lines.join('\n');
}
