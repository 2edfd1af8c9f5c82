import { z } from 'zod';
import { env, loadConfig } from '../common/config';
import { createKafka, ensureTopics } from '../common/kafka/client';
import { weakTopics, withDlqs } from '../common/kafka/topic-durability';
import { createLogger } from '../common/logger';

/** Creates every topic and DLQ on an external cluster (docker compose, or an operator by hand). */
const config = loadConfig({ KAFKA_BROKERS: env.list('127.0.0.1:9092'), KAFKA_TOPIC_PREFIX: z.string().default('') });
const logger = createLogger('create-topics');

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
