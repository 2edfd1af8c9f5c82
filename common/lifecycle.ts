import { withTimeout } from './with-timeout';

/** Every long-lived part (consumer, relay, server, hub, connection) is handed back as this once started. */
export interface Stoppable {
  /** Stop taking work, finish or hand back what is in flight, release what it holds. */
  stop(): Promise<void>;
}

/** Parts in one stage stop together; stages stop one after another. */
export type StopStage = Stoppable | Stoppable[];

/** How long a service may take to stop when it has no setting of its own: inside runService's grace. */
export const STOP_DEADLINE_MS = 25_000;

/**
 * Stops every stage in order, each part even when an earlier one failed (a connection left open
 * would hold the process), all under one deadline; every failure is reported together.
 */
export function stopAll(what: string, stages: StopStage[], deadlineMs = STOP_DEADLINE_MS): Promise<void> {
  return withTimeout(stopStages(what, stages), deadlineMs, `stopping ${what}`);
}

/** stopAll without a deadline of its own, for a part made of parts: the service's deadline covers it. */
export async function stopStages(what: string, stages: StopStage[]): Promise<void> {
  const failures: unknown[] = [];
  for (const stage of stages) {
    const parts = Array.isArray(stage) ? stage : [stage];
    const settled = await Promise.allSettled(parts.map(async (part) => part.stop()));
    for (const s of settled) if (s.status === 'rejected') failures.push(s.reason);
  }
  if (failures.length > 0) throw new AggregateError(failures, `${what} did not stop cleanly`);
}
