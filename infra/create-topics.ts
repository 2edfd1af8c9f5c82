import { commonShape, loadConfig } from '../common/config';
import { createKafka, ensureTopics } from '../common/kafka/client';
import { weakTopics, withDlqs } from '../common/kafka/topic-durability';
import { createLogger } from '../common/logger';

/** Creates every topic and DLQ on an external cluster (docker compose, or an operator by hand). */
const config = loadConfig({
  KAFKA_BROKERS: commonShape.KAFKA_BROKERS,
  KAFKA_TOPIC_PREFIX: commonShape.KAFKA_TOPIC_PREFIX,
  LOG_LEVEL: commonShape.LOG_LEVEL,
});
const logger = createLogger('create-topics', config.LOG_LEVEL);

async function main(): Promise<void> {
  const admin = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'create-topics', logger }).admin();
  await admin.connect();
  try {
    const names = await ensureTopics(admin, config.KAFKA_TOPIC_PREFIX);
    logger.info({ topics: Object.values(names) }, 'topics ready');
    for (const weak of await weakTopics(admin, withDlqs(names)))
      logger.warn({ topic: weak }, 'topic less durable than this cluster allows');
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  logger.fatal({ err: e }, 'could not create topics');
  process.exit(1);
});
