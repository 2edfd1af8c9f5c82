/**
 * A document of about 40·n bytes whose fragments each spread the one before twice, `bottom` in the
 * last: 2^n spreads for a walk that expands a fragment at every spread instead of once.
 */
export function doublingFragments(
  operation: 'query' | 'subscription',
  onType: string,
  bottom: string,
  n: number,
): string {
  const fragments = [`fragment F0 on ${onType} { ${bottom} }`];
  for (let i = 1; i <= n; i++) fragments.push(`fragment F${i} on ${onType} { ...F${i - 1} ...F${i - 1} }`);
  return `${operation} { ...F${n} }\n${fragments.join('\n')}`;
}
