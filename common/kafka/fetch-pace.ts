import type { Consumer } from 'kafkajs';
import { sleep } from '../sleep';

/**
 * The fetch settings that go with a FetchPace: the broker answers as soon as anything is there,
 * and holds an idle consumer's fetch for half a second instead of answering it empty every cycle.
 */
export const LONG_POLL = { minBytes: 1, maxWaitTimeInMs: 500 } as const;

/**
 * Holds a consumer's next fetch until `cycleMs` after its last one began, from inside the
 * batches' handler: kafkajs fetches again only once every batch of a fetch is handled. With
 * LONG_POLL, a consumer then fetches once per cycle under load, as a `maxWaitTimeInMs` of one
 * cycle would, but polls an idle broker twice a second instead of once per cycle, and hears of a
 * change as soon as it lands instead of at its cycle's end. The gateway's fan-out, fetching every
 * 20 ms, took half of an idle gateway's CPU that way (0.04 of 0.08 cores).
 *
 * For a consumer that handles all of a fetch's batches at once (`partitionsConsumedConcurrently`
 * at least the topic's partitions): one batch waiting would otherwise hold back the next. One
 * cycle per consumer, not per broker: on a cluster a batch may wait for a cycle that another
 * broker's fetch began, never longer than `cycleMs`.
 */
export class FetchPace {
  private began = 0;

  constructor(
    consumer: Consumer,
    private readonly cycleMs: number,
  ) {
    consumer.on(consumer.events.FETCH_START, () => {
      this.began = performance.now();
    });
  }

  /** Resolves once the present fetch's cycle is over; call it after the batch is handled. */
  async hold(): Promise<void> {
    const left = this.began + this.cycleMs - performance.now();
    if (left > 0) await sleep(left);
  }
}
