import { connectDatabase, isDatabaseReachable } from '../../common/db';
import { migrateMoneyDb } from '../db/migrate';
import { startHealthServer, startHttpServer } from '../../common/health-server';
import { stopAll, stoppable, type StopStage } from '../../common/lifecycle';
import { createKafka, ensureTopics } from '../../common/kafka/client';
import { countingParked } from '../../common/kafka/dlq-counter';
import type { StallHandler } from '../../common/kafka/consumer-watchdog';
import { consumerContext } from '../../common/kafka/group-consumer';
import { SelfHealingProducer } from '../../common/kafka/self-healing-producer';
import { groupName } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import { kafkaReadiness, type RunningService } from '../../common/service';
import { tracerOf } from '../../common/tracing';
import * as schema from '../db/schema';
import { internalRoutes } from './internal-api';
import type { MoneyStorageConfig } from './config';
import { GatewayUsers } from './gateway-users';
import { Ledger } from './ledger';
import { MoneyStorageMetrics } from './metrics';
import { startOperationConsumer, type BeforeCommitHook } from './operation-consumer';
import { OperationHandler } from './operation-handler';
import { CachedUserDirectory } from './user-cache';

export interface MoneyStorage extends RunningService {
  /** The HTTP ports actually bound (0 picks a free one): health, and the internal API. */
  port: number;
  internalPort: number;
}

export interface StartOptions {
  beforeCommit?: BeforeCommitHook;
  onStall?: StallHandler;
}

export async function startMoneyStorage(
  config: MoneyStorageConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<MoneyStorage> {
  await migrateMoneyDb(config.DATABASE_URL);
  const database = connectDatabase(config.DATABASE_URL, schema, config.DB_POOL_SIZE, tracerOf('money-storage'));
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'money-storage', logger });
  const admin = kafka.admin();
  const producer = new SelfHealingProducer(kafka, logger);
  await admin.connect();
  const names = await ensureTopics(admin, config.KAFKA_TOPIC_PREFIX);

  const ledger = new Ledger(database.db);
  const gateway = new GatewayUsers({
    baseUrls: config.GATEWAY_URL,
    serviceToken: config.INTERNAL_SERVICE_TOKEN,
    timeoutMs: config.GATEWAY_TIMEOUT_MS,
    retries: config.GATEWAY_RETRIES,
    retryBaseMs: config.GATEWAY_RETRY_BASE_MS,
    logger,
  });
  const users = new CachedUserDirectory(gateway, config.USER_CACHE_TTL_MS, config.USER_CACHE_MAX_ENTRIES);
  const metrics = new MoneyStorageMetrics();
  const handler = new OperationHandler(ledger, users, config.MONEY_STORAGE_OPENING_BALANCE, logger, metrics.decided);
  const groupId = groupName(config.KAFKA_TOPIC_PREFIX, config.MONEY_STORAGE_GROUP_ID);
  metrics.watch({ admin, groups: [{ groupId, topics: [names.moneyOperations], fromBeginning: true }] });

  const server = await startHealthServer(
    config.PORT,
    { kafka: kafkaReadiness(admin), database: () => isDatabaseReachable(database.pool) },
    metrics.registry,
    logger,
  );
  const internal = await startHttpServer(
    { port: config.INTERNAL_PORT, host: config.INTERNAL_HOST },
    internalRoutes(ledger, config.INTERNAL_SERVICE_TOKEN),
    { logger, tracer: tracerOf('money-storage') },
  );
  const consumers = consumerContext(kafka, config, logger, options.onStall);
  const consumer = await startOperationConsumer(consumers, {
    producer: countingParked(producer, metrics.registry),
    names,
    groupId,
    handler,
    logger,
    partitionsConcurrently: config.KAFKA_PARTITIONS_CONCURRENTLY,
    concurrency: config.OPERATION_CONCURRENCY,
    chunkSize: config.OPERATION_CHUNK_SIZE,
    beforeCommit: options.beforeCommit,
  });

  // The consumer first: it finishes its chunk (publish + commit) while the producer and DB are still up.
  const stages: StopStage[] = [
    { consumer },
    { server, internal, logs: stoppable(() => handler.flushLogs()) },
    { producer, admin: stoppable(() => admin.disconnect()) },
    { database: stoppable(() => database.close()) },
  ];
  return { port: server.port, internalPort: internal.port, stop: () => stopAll('money-storage', stages) };
}
