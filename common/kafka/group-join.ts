import type { Consumer } from 'kafkajs';
import { withTimeout } from '../with-timeout';

/**
 * Resolves once the consumer has joined its group and owns partitions. A consumer that starts at
 * the log's end must be joined before anything it should see is produced.
 */
export function waitForGroupJoin(consumer: Consumer, timeoutMs = 30_000): Promise<void> {
  let remove = (): void => undefined;
  const joined = new Promise<void>((resolve) => {
    remove = consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  return withTimeout(joined, timeoutMs, 'joining the consumer group').finally(remove);
}
