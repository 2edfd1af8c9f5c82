import { withoutStack } from '../../common/coded-error';
import { ApiError } from '../../common/api-error';
import type { AdaptiveLimit } from './adaptive-limit';
import type { PipelinePace } from './pipeline-pace';
import type { LoopSaturation } from './loop-saturation';

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
  /**
   * `concurrency`: as many createPayments in flight as the adaptive limit allows (see
   * adaptive-limit.ts); `pace`: as many accepted this second as the pipeline's recent pace allows
   * (see pipeline-pace.ts); `eventLoopUtilization`: the gateway's loop is busy while refusing an
   * excess (see loop-saturation.ts).
   */
  signal: LoadSignal | 'concurrency' | 'pace' | 'eventLoopUtilization';
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

/**
 * Refusals that are not pressure for the slow start, which only a reading of the pipeline or the
 * stores is: the pace is the slow start itself, the concurrency limit answers latency and the
 * loop's saturation this replica's own CPU, each for itself (see PipelinePace.notePressure; as
 * pressure, the saturation held a 1,000/s load to half).
 */
const ANSWERED_FOR_ITSELF: ReadonlySet<Overload['signal']> = new Set(['pace', 'concurrency', 'eventLoopUtilization']);

/** Long enough for a burst to drain, short enough that a client's retry finds room. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/** Ends an admitted call; `sample`: it completed normally, so its latency tells the limit something. */
export type AdmissionTicket = (sample: boolean) => void;

/**
 * Admission for new work: when the system is measurably behind, a payment is refused at once
 * with RESOURCE_EXHAUSTED (REST 429 + Retry-After) instead of joining a queue where it would wait
 * seconds. Nothing is written for a refused payment, so the client's retry (same idempotency key)
 * is a first attempt. Two kinds of measure: readings of the whole system against fixed limits, and
 * the number of payments in flight against a limit that follows their latency (`concurrency`).
 */
export class Admission {
  constructor(
    private readonly readings: () => LoadReadings,
    private readonly limits: AdmissionLimits,
    private readonly concurrency: AdaptiveLimit | undefined,
    private readonly onRefused: (overload: Overload) => void = () => undefined,
    private readonly pace?: PipelinePace,
    private readonly saturation?: LoopSaturation,
  ) {}

  /** Why a payment would be refused now, if it would; `admit` is what refuses. */
  overload(): Overload | undefined {
    const c = this.concurrency;
    if (c?.full) return { signal: 'concurrency', value: c.inUse, limit: c.limit };
    const p = this.pace;
    if (p?.full) return { signal: 'pace', value: p.acceptedThisSecond, limit: p.cap };
    const s = this.saturation;
    const busy = s?.saturated;
    if (s && busy !== undefined) return { signal: 'eventLoopUtilization', value: busy, limit: s.maxUtilization };
    return overloadOf(this.readings(), this.limits);
  }

  /** RESOURCE_EXHAUSTED if a payment would be refused now; takes no slot. */
  check(): void {
    const overload = this.overload();
    this.saturation?.noteAsked(overload !== undefined);
    if (!overload) return;
    if (overload.signal === 'concurrency') this.concurrency?.noteRefusal();
    if (!ANSWERED_FOR_ITSELF.has(overload.signal)) this.pace?.notePressure();
    this.onRefused(overload);
    throw withoutStack(
      () =>
        new ApiError('RESOURCE_EXHAUSTED', `the system is at capacity; retry in ${OVERLOAD_RETRY_AFTER_SECONDS} s`, {
          retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
        }),
    );
  }

  /** A ticket to end the call with, or RESOURCE_EXHAUSTED. */
  admit(): AdmissionTicket {
    this.check();
    this.pace?.noteAccepted();
    if (!this.concurrency) return () => undefined;
    // Not full a moment ago, on the same turn of the event loop: a slot is there.
    const ticket = this.concurrency.tryAcquire();
    if (!ticket) throw new Error('the concurrency limit was full right after check() found room');
    return ticket;
  }
}
