/**
 * Sets `key` as the newest entry of an insertion-ordered Map, and drops the oldest past `limit`:
 * a bounded memory of the most recently changed keys.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key); // re-inserted last: the Map's order is then oldest-first
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value!);
}
