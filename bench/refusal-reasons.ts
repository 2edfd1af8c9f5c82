/**
 * Why the gateway refused: its `gateway_admission_refusals_total` counter by load signal, read
 * from `/metrics` before and after the load so the bench can say which reading held it back.
 */
export type RefusalsBySignal = Record<string, number>;

const SERIES = /^gateway_admission_refusals_total\{[^}]*signal="([^"]+)"[^}]*\} (\S+)$/;

export async function readRefusals(gatewayUrl: string): Promise<RefusalsBySignal> {
  const res = await fetch(new URL('/metrics', gatewayUrl));
  if (!res.ok) throw new Error(`gateway /metrics answered ${res.status}`);
  const counts: RefusalsBySignal = {};
  for (const line of (await res.text()).split('\n')) {
    const m = SERIES.exec(line);
    if (m) counts[m[1]!] = Number(m[2]);
  }
  return counts;
}

export function refusalsSince(before: RefusalsBySignal, after: RefusalsBySignal): RefusalsBySignal {
  return Object.fromEntries(
    Object.entries(after)
      .map(([signal, n]) => [signal, n - (before[signal] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}
