import { isTransientFailure } from './failure-class';

interface Waiting<I, O> {
  item: I;
  at: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Groups concurrent calls into one call with many items: under load, one SQL statement (and one
 * commit, one WAL flush) carries many payments instead of one each. A lone call goes out at
 * once; calls arriving while `maxConcurrent` batches are in flight wait for the next one.
 */
export class Batcher<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  /** Items of a failed batch, each to run by itself, ahead of new work and within the same limits. */
  private alone: Array<Waiting<I, O>> = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    private readonly maxConcurrent = 4,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, at: performance.now(), resolve, reject });
      this.pump();
    });
  }

  /** How long the oldest call still waiting for a batch has waited: 0 when none waits. */
  oldestWaitMs(): number {
    const oldest = this.alone[0] ?? this.queue[0];
    return oldest ? performance.now() - oldest.at : 0;
  }

  /**
   * Callers must never share a fate they did not cause: when a shared statement fails for a
   * reason other than an outage, each item is run again alone, so only the one at fault fails.
   * An outage fails them all at once (running each alone would only hammer a dead dependency).
   */
  private failed(batch: Array<Waiting<I, O>>, e: unknown): void {
    if (batch.length === 1 || isTransientFailure(e)) return batch.forEach((b) => b.reject(e));
    this.alone.push(...batch);
  }

  private pump(): void {
    while (this.inFlight < this.maxConcurrent && (this.alone.length > 0 || this.queue.length > 0)) {
      const batch = this.alone.length > 0 ? this.alone.splice(0, 1) : this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      this.run(batch.map((b) => b.item))
        .then(
          (outputs) => batch.forEach((b, i) => b.resolve(outputs[i]!)),
          (e) => this.failed(batch, e),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }
}

/**
 * For callers that each hand over a list (a partition's batch): the lists handed over while a call
 * is on the wire are joined into the next one, so the partitions of one fetch cost one statement
 * or one request, not one each. A joined call refused for good is redone per list (see `failed`),
 * so a list is still refused only for what it holds.
 */
export function listJoiner<T>(run: (items: T[]) => Promise<unknown>, maxLists = 64): Batcher<T[], void> {
  return new Batcher<T[], void>(
    async (lists) => {
      await run(lists.flat());
      return lists.map(() => undefined);
    },
    maxLists,
    1,
  );
}
