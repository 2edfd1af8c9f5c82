/**
 * Waits `ms` (optionally with a value, an AbortSignal, or `{ ref: false }` so the wait does not
 * keep the process alive). Node's own: one implementation instead of a Promise around a timer.
 */
export { setTimeout as sleep } from 'node:timers/promises';
