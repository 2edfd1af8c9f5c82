import { commonShape, loadConfig } from '../common/config';
import { createKafka } from '../common/kafka/client';
import { replayDlq } from '../common/kafka/dlq-replay';
import { topicNames, type TopicKey } from '../common/kafka/topics';
import { createLogger } from '../common/logger';

/**
 * `npm run dlq:replay -- <statusPayments|moneyOperations|moneyOperationResults> [--from N] [--dry-run]`:
 * sends a topic's parked messages back to it once their cause is fixed. Prints the report as JSON,
 * with `next`, the `--from` for the next run.
 *
 * Not `payments`: a parked payment was already answered ERROR to its owner, so conducting it now
 * would take money for a payment that shows ERROR. Its owner creates it again instead. Every
 * other topic's consumer is idempotent against what it already decided (a late debit meets the
 * fence its compensation left, a status only moves forward, a result for a payment nobody holds
 * is dropped, a credit is applied once).
 */
const REPLAYABLE: readonly TopicKey[] = ['statusPayments', 'moneyOperations', 'moneyOperationResults'];
async function main(): Promise<void> {
  const [key, ...flags] = process.argv.slice(2);
  if (key === 'payments')
    usage('payments is not replayable: each parked payment was answered ERROR; its owner creates it again');
  if (!key || !(REPLAYABLE as readonly string[]).includes(key)) usage(`unknown topic ${JSON.stringify(key)}`);
  const fromFlag = flags.indexOf('--from');
  const from = fromFlag === -1 ? 0 : Number(flags[fromFlag + 1]);
  if (!Number.isInteger(from) || from < 0) usage('--from takes a DLQ offset');
  const config = loadConfig({
    KAFKA_BROKERS: commonShape.KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: commonShape.KAFKA_TOPIC_PREFIX,
    LOG_LEVEL: commonShape.LOG_LEVEL,
  });
  const logger = createLogger('dlq-replay', config.LOG_LEVEL);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'dlq-replay', logger });
  const topic = topicNames(config.KAFKA_TOPIC_PREFIX)[key as TopicKey];
  const report = await replayDlq(kafka, { topic, from, dryRun: flags.includes('--dry-run') });
  process.stdout.write(`${JSON.stringify({ topic, dryRun: flags.includes('--dry-run'), ...report }, null, 2)}\n`);
}

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run dlq:replay -- <${REPLAYABLE.join('|')}> [--from N] [--dry-run]\n`);
  process.exit(2);
}

main().catch((e) => {
  process.stderr.write(`dlq replay failed: ${(e as Error).message}\n`);
  process.exit(1);
});
