import { createKafka } from '../../common/kafka/client';
import { createLogger } from '../../common/logger';
import { closeServer, startHealthServer } from '../../common/health-server';
import { kafkaReadiness, runService } from '../../common/service';
import { loadPaymasterConfig } from './config';

const config = loadPaymasterConfig();
const logger = createLogger('paymaster', config.LOG_LEVEL);

runService(logger, async () => {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'paymaster', topicPrefix: config.KAFKA_TOPIC_PREFIX, logger });
  const admin = kafka.admin();
  await admin.connect();
  const server = await startHealthServer(config.PORT, { kafka: kafkaReadiness(admin) }, logger);
  return {
    stop: async () => {
      await closeServer(server);
      await admin.disconnect();
    },
  };
});
