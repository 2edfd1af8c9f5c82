/**
 * Why the gateway refused: its `gateway_admission_refusals_total` counter by load signal, read
 * from `/metrics` before and after the load so the bench can say which reading held it back.
 */
export type RefusalsBySignal = Record<string, number>;

const SERIES = /^gateway_admission_refusals_total\{[^}]*signal="([^"]+)"[^}]*\} (\S+)$/;

/** Undefined when the gateway did not answer: a diagnostic must not cost the run its results. */
export async function readRefusals(gatewayUrl: string): Promise<RefusalsBySignal | undefined> {
  try {
    const res = await fetch(new URL('/metrics', gatewayUrl), { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const counts: RefusalsBySignal = {};
    for (const line of (await res.text()).split('\n')) {
      const m = SERIES.exec(line);
      if (m) counts[m[1]!] = (counts[m[1]!] ?? 0) + Number(m[2]);
    }
    return counts;
  } catch {
    return undefined;
  }
}

export function refusalsSince(
  before: RefusalsBySignal | undefined,
  after: RefusalsBySignal | undefined,
): RefusalsBySignal | undefined {
  if (!before || !after) return undefined;
  return Object.fromEntries(
    Object.entries(after)
      .map(([signal, n]) => [signal, n - (before[signal] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}
