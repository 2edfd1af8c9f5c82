/**
 * TEMPORARY stand-in, replaced by the shared classifier on merge.
 */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '40001', '40P01', '55P03']);
export function isTransientFailure(e: unknown): boolean {
  const err = e as { code?: string; message?: string; cause?: unknown } | null;
  if (!err) return false;
  if (typeof err.code === 'string' && (TRANSIENT_CODES.has(err.code) || err.code.startsWith('08') || err.code.startsWith('53'))) return true;
  if (/Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(String(err.message))) return true;
  return err.cause !== undefined && err.cause !== e ? isTransientFailure(err.cause) : false;
}
