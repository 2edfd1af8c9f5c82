import { ApiError } from '../../common/api-error';

/** What the gateway measures of the system's load, each read the moment a payment asks to enter. */
export interface LoadReadings {
  /** p99 of the gateway's event-loop delay over the last second: its own CPU is saturated. */
  eventLoopDelayMs: number;
  /** How long the oldest createPayment has waited for its INSERT: Postgres is not keeping up. */
  writeQueueWaitMs: number;
  /** Rows in the outbox not yet acknowledged by Kafka: the broker is not keeping up. */
  outboxBacklog: number;
  /** Payments the paymaster has not finished, in seconds of its recent best pace: the pipeline is behind. */
  paymentsBacklogSeconds: number;
}

export type LoadSignal = keyof LoadReadings;

/** The most each reading may be before new payments are refused; 0 ignores that reading. */
export type AdmissionLimits = Record<LoadSignal, number>;

export interface Overload {
  signal: LoadSignal;
  value: number;
  limit: number;
}

/** The first reading over its limit, if any. */
export function overloadOf(readings: LoadReadings, limits: AdmissionLimits): Overload | undefined {
  for (const signal of Object.keys(limits) as LoadSignal[]) {
    const limit = limits[signal];
    if (limit > 0 && readings[signal] > limit) return { signal, value: readings[signal], limit };
  }
  return undefined;
}

/** Long enough for a burst to drain, short enough that a client's retry finds room. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/**
 * Admission for new work: when the system is measurably behind, a payment is refused at once
 * with RESOURCE_EXHAUSTED (REST 429 + Retry-After) instead of joining a queue where it would wait
 * seconds. Nothing is written for a refused payment, so the client's retry (same idempotency key)
 * is a first attempt.
 */
export class Admission {
  constructor(
    private readonly readings: () => LoadReadings,
    private readonly limits: AdmissionLimits,
    private readonly onRefused: (overload: Overload) => void = () => undefined,
  ) {}

  admit(): void {
    const overload = overloadOf(this.readings(), this.limits);
    if (!overload) return;
    this.onRefused(overload);
    throw new ApiError('RESOURCE_EXHAUSTED', `the system is at capacity; retry in ${OVERLOAD_RETRY_AFTER_SECONDS} s`, {
      retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
    });
  }
}
