import { createKafka } from '../../common/kafka/client';
import { createLogger } from '../../common/logger';
import { closeServer, startHealthServer } from '../../common/health-server';
import { connectDatabase, isDatabaseReachable } from '../../common/db';
import { kafkaReadiness, runService } from '../../common/service';
import { loadMoneyStorageConfig } from './config';

const config = loadMoneyStorageConfig();
const logger = createLogger('money-storage', config.LOG_LEVEL);

runService(logger, async () => {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'money-storage', topicPrefix: config.KAFKA_TOPIC_PREFIX, logger });
  const admin = kafka.admin();
  await admin.connect();
  const database = connectDatabase(config.DATABASE_URL, {});
  const server = await startHealthServer(
    config.PORT,
    { kafka: kafkaReadiness(admin), database: () => isDatabaseReachable(database.pool) },
    logger,
  );
  return {
    stop: async () => {
      await closeServer(server);
      await admin.disconnect();
      await database.close();
    },
  };
});
