import 'reflect-metadata';
import path from 'node:path';
import { applyMigrations, connectDatabase, isDatabaseReachable } from '../../common/db';
import { createKafka } from '../../common/kafka/client';
import { createLogger } from '../../common/logger';
import { PROJECT_ROOT } from '../../common/project-root';
import { closeServer, startHealthServer } from '../../common/health-server';
import { kafkaReadiness, runService } from '../../common/service';
import * as schema from '../db/schema';
import { loadGatewayConfig } from './config';

const config = loadGatewayConfig();
const logger = createLogger('gateway', config.LOG_LEVEL);

runService(logger, async () => {
  await applyMigrations(config.DATABASE_URL, path.join(PROJECT_ROOT, 'gateway', 'db', 'migrations'), 'gateway');
  const database = connectDatabase(config.DATABASE_URL, schema);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'gateway', topicPrefix: config.KAFKA_TOPIC_PREFIX, logger });
  const admin = kafka.admin();
  await admin.connect();
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
