import { isInfraFailureLine } from '../../infra/stack';

/** What `npm start` shows of the broker's and Postgres' own logs: their failures, not their chatter. */
describe("the broker's and Postgres' lines on npm start", () => {
  it.each([
    '[2026-11-26 11:23:39,264] ERROR Error while writing to checkpoint file (kafka.server.LogDirFailureChannel)',
    '[2026-11-26 11:23:39,264] FATAL [KafkaRaftServer nodeId=1] Fatal error during broker startup',
    '2026-11-26 11:23:39.264 UTC [42] FATAL:  could not open file "postgresql.conf"',
    '2026-11-26 11:23:39.264 UTC [42] ERROR:  relation "x" does not exist',
    '[STDERR] initdb: error: could not access directory "/data/postgres": Permission denied',
  ])('shows a failure: %s', (line) => expect(isInfraFailureLine(line)).toBe(true));

  it.each([
    "[2026-11-26 11:23:39,264] WARN Auto topic creation failed for __consumer_offsets with error 'TOPIC_ALREADY_EXISTS': Topic '__consumer_offsets' already exists.. (org.apache.kafka.server.DefaultAutoTopicCreationManager)",
    '[2026-11-26 11:23:39,264] INFO [Partition payments-0 broker=1] Log loaded, error count 0',
    '2026-11-26 11:23:39.264 UTC [42] LOG:  database system is ready to accept connections',
  ])('hides chatter that mentions an error: %s', (line) => expect(isInfraFailureLine(line)).toBe(false));
});
