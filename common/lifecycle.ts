import { TimeoutError, withTimeout } from './with-timeout';

/** Every long-lived part (consumer, relay, server, hub, connection) is handed back as this once started. */
export interface Stoppable {
  /** Stop taking work, finish or hand back what is in flight, release what it holds. */
  stop(): Promise<void>;
}

/**
 * Parts of one stage stop together; stages stop one after another. Parts are named so that a
 * stop that overruns its deadline says which part is still stopping.
 */
export type StopStage = Record<string, Stoppable>;

/** A part that is only a function, such as a client's disconnect. */
export const stoppable = (stop: () => Promise<void>): Stoppable => ({ stop });

/** How long a service may take to stop when it has no setting of its own: inside runService's grace. */
const STOP_DEADLINE_MS = 25_000;

/** The deadline passed; `pending` names the parts still stopping, as `stage.part` paths. */
export class StopTimeoutError extends TimeoutError {
  constructor(
    what: string,
    ms: number,
    readonly pending: string[],
  ) {
    super(`stopping ${what} (still stopping: ${pending.join(', ') || 'nothing'})`, ms);
  }
}

/**
 * Stops every stage in order, each part even when an earlier one failed (a connection left open
 * would hold the process), all under one deadline; every failure is reported together.
 */
export function stopAll(what: string, stages: StopStage[], deadlineMs = STOP_DEADLINE_MS): Promise<void> {
  const pending = new Set<string>();
  return withTimeout(
    stopStages(what, stages, pending),
    deadlineMs,
    `stopping ${what}`,
    () => new StopTimeoutError(what, deadlineMs, [...pending]),
  );
}

/**
 * stopAll without a deadline of its own, for a part made of parts: the service's deadline covers
 * it. `pending` collects the names of the parts still stopping, prefixed by `prefix`.
 */
export async function stopStages(
  what: string,
  stages: StopStage[],
  pending = new Set<string>(),
  prefix = '',
): Promise<void> {
  const failures: unknown[] = [];
  for (const stage of stages) {
    const settled = await Promise.allSettled(
      Object.entries(stage).map(async ([name, part]) => {
        const path = prefix + name;
        pending.add(path);
        try {
          await (isComposite(part) ? part.stopWithin(pending, `${path}.`) : part.stop());
        } finally {
          pending.delete(path);
        }
      }),
    );
    for (const s of settled) if (s.status === 'rejected') failures.push(s.reason);
  }
  if (failures.length > 0) throw new AggregateError(failures, `${what} did not stop cleanly`);
}

/** A part made of stages of its own, whose pending parts are named under its own name. */
export interface CompositeStoppable extends Stoppable {
  stopWithin(pending: Set<string>, prefix: string): Promise<void>;
}

const isComposite = (part: Stoppable): part is CompositeStoppable =>
  typeof (part as Partial<CompositeStoppable>).stopWithin === 'function';

/** Stages that stop as one part of a larger whole (a server made of a socket and a listener). */
export function composite(what: string, stages: StopStage[]): CompositeStoppable {
  return {
    stop: () => stopStages(what, stages),
    stopWithin: (pending, prefix) => stopStages(what, stages, pending, prefix),
  };
}

/**
 * Starts every part at once. If one fails, the others that started are stopped before the failure
 * is thrown: a start that fails leaves nothing running, so it can simply be tried again.
 */
export async function startAllOrNone(starters: Record<string, () => Promise<Stoppable>>): Promise<StopStage> {
  const names = Object.keys(starters);
  const settled = await Promise.allSettled(names.map((name) => starters[name]!()));
  const started: StopStage = {};
  let failure: { reason: unknown } | undefined;
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') started[names[i]!] = s.value;
    else failure ??= { reason: s.reason };
  });
  if (!failure) return started;
  await stopStages('a start that failed', [started]).catch(() => undefined);
  throw failure.reason;
}
