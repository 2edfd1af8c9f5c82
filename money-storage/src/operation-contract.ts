import { z } from 'zod';
import { moneyOperation, type MoneyOperation } from '../../common/kafka/contracts';

/**
 * The `money-operations` schema as money-storage reads it. The shared `moneyOperation` is a
 * discriminatedUnion on `kind` with two CREDIT members, which zod 4 refuses ("Duplicate
 * discriminator value") on the first parse, so every decode/encode through it throws. These are
 * the same member schemas as a plain union (first match wins; the members cannot overlap), to be
 * dropped once the shared contract nests its CREDIT members in a union on `purpose`.
 */
export const moneyOperationSchema = z.union(moneyOperation.options);

export type DecodedOperation = { ok: true; value: MoneyOperation } | { ok: false; error: string };

export function decodeOperation(value: Buffer | null): DecodedOperation {
  if (value === null) return { ok: false, error: 'empty message value' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const parsed = moneyOperationSchema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return { ok: false, error: `schema violation: ${detail}` };
}
