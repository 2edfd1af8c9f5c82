import { connectDatabase, isDatabaseReachable } from '../../common/db';
import { migrateGatewayDb } from '../db/migrate';
import { createKafka, ensureTopics } from '../../common/kafka/client';
import type { StallHandler } from '../../common/kafka/consumer-watchdog';
import { consumerContext, type ConsumerContext } from '../../common/kafka/group-consumer';
import { countingParked } from '../../common/kafka/dlq-counter';
import { SEND_TIMEOUT_MS, SelfHealingProducer, type Sender } from '../../common/kafka/self-healing-producer';
import { groupName, topicNames, type TopicNames } from '../../common/kafka/topics';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { ReadinessCheck } from '../../common/http';
import { startAllOrNone, stopAll, stoppable, type StopStage } from '../../common/lifecycle';
import type { Logger } from '../../common/logger';
import { kafkaReadiness, type RunningService } from '../../common/service';
import { tracerOf } from '../../common/tracing';
import * as schema from '../db/schema';
import { createPaymentLimit } from './adaptive-limit';
import { Admission } from './admission';
import { CallerGate } from './caller-gate';
import { admissionLimits, type GatewayConfig } from './config';
import { LoadSignals } from './load-signals';
import { LoopSaturation } from './loop-saturation';
import { startDepositOutcomes } from './deposit-outcomes';
import { DepositStore } from './deposit-store';
import { internalRoutes, serveInternalApi } from './http/internal-api';
import { startPublicHttp } from './http/public-server';
import { awaitKafkaSide, startKafkaSide } from './kafka-side';
import { FanOutPositions } from './fan-out-positions';
import { GatewayMetrics } from './metrics';
import { MoneyService, type MoneyServiceParts } from './money-service';
import { MoneyStorageClient } from './money-storage-client';
import { OutboxRelay } from './outbox-relay';
import { PaymentService } from './payment-service';
import { PaymentStore } from './payment-store';
import { RateLimiter } from './rate-limiter';
import { StatusHub } from './status-hub';
import { startStatusBroadcast, startStatusWriter } from './status-consumers';
import { PipelinePace } from './pipeline-pace';
import { isTerminal } from '../../common/payment-status';

export interface Gateway extends RunningService {
  port: number;
  /** The internal API's listener (INTERNAL_PORT). */
  internalPort: number;
  hub: StatusHub;
  store: PaymentStore;
}

export interface GatewayOptions {
  onStall?: StallHandler;
}

/**
 * Wires the gateway: database and Kafka, the services behind the API, the consumers and the outbox
 * relay, then the internal API and the public port (http/public-server.ts). Kafka is waited for
 * only up to KAFKA_START_WAIT_MS (kafka-side.ts): the API needs the database, not the broker.
 * Stopping runs the other way round: no new requests, then no new messages, then the connections.
 */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<Gateway> {
  await migrateGatewayDb(config.DATABASE_URL);
  const database = connectDatabase(config.DATABASE_URL, schema, 20, tracerOf('gateway'));
  const metrics = new GatewayMetrics();
  const pace =
    config.ADMISSION_PACE_FLOOR_PER_SECOND > 0 ? new PipelinePace(config.ADMISSION_PACE_FLOOR_PER_SECOND) : undefined;
  const store = new PaymentStore(database.db, {
    userStatusTtlMs: config.USER_STATUS_CACHE_MS,
    onStatusChange: (status, currency) => {
      metrics.statusChanged(status, currency);
      if (isTerminal(status)) pace?.noteFinished();
    },
  });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'gateway', logger });
  const admin = kafka.admin();
  const sendTimeoutMs = Math.max(SEND_TIMEOUT_MS, config.PUBLISH_TIMEOUT_MS * 5);
  const producer = new SelfHealingProducer(kafka, logger, sendTimeoutMs);
  const names = topicNames(config.KAFKA_TOPIC_PREFIX);

  const hub = new StatusHub();
  const relay = new OutboxRelay(store, producer, names, logger, {
    sweepAfterMs: Math.max(5000, config.PUBLISH_TIMEOUT_MS * 2),
    sweepEveryMs: config.OUTBOX_RELAY_INTERVAL_MS,
    batchSize: 500,
    onStage: metrics.createStage,
  });
  const gate = new CallerGate(store, new RateLimiter(config.RATE_LIMIT_PER_MINUTE));
  const { load, concurrency, admission } = admissionFor(config, { store, admin, names, metrics, pace });
  const deposits = new DepositStore(database.db);
  const services = {
    service: new PaymentService({
      store,
      relay,
      hub,
      gate,
      admission,
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
      createTimer: metrics.createPayment,
      onStage: metrics.createStage,
    }),
    money: moneyServiceFor(config, { store, deposits, gate, producer, names, sendTimeoutMs, logger }),
  };
  const groups = consumerGroups(config, names);
  const kafkaSide = startConsumers(
    config,
    {
      ctx: consumerContext(kafka, config, logger, options.onStall),
      admin,
      names,
      groups,
      store,
      hub,
      deposits,
      producer: countingParked(producer, metrics.registry),
    },
    logger,
  );
  await awaitKafkaSide(kafkaSide, config.KAFKA_START_WAIT_MS, logger);
  metrics.watch({ store, hub, admin, groups: Object.values(groups), concurrency });
  relay.start();
  load.start();

  // Before the public port: once /readyz answers, money-storage can reach the internal API.
  const internal = await serveInternalApi(
    internalRoutes(store, config.INTERNAL_SERVICE_TOKEN),
    { port: config.INTERNAL_PORT, host: config.INTERNAL_HOST },
    logger,
  );
  const http = await startPublicHttp(config, {
    services,
    store,
    admission,
    checks: readinessChecks(admin, kafkaSide, database.pool),
    registry: metrics.registry,
    logger,
  });

  // No new requests, then no new messages (consumers commit what they did), then the connections.
  const stages: StopStage[] = [
    { http, internal },
    { relay, load },
    { kafkaSide },
    { producer, admin: stoppable(() => admin.disconnect()) },
    { database: stoppable(() => database.close()) },
  ];
  return { port: http.port, internalPort: internal.port, hub, store, stop: () => stopAll('gateway', stages) };
}

/** What createPayment is admitted on: the system's own measures (see admission.ts). */
function admissionFor(
  config: GatewayConfig,
  p: { store: PaymentStore; admin: Admin; names: TopicNames; metrics: GatewayMetrics; pace: PipelinePace | undefined },
) {
  const load = new LoadSignals(
    {
      outboxBacklog: () => p.store.outboxBacklog(),
      writeQueueWaitMs: () => p.store.writeQueueWaitMs(),
      admin: p.admin,
      paymasterGroup: {
        groupId: groupName(config.KAFKA_TOPIC_PREFIX, config.PAYMASTER_GROUP_ID),
        topics: [p.names.payments],
        fromBeginning: true,
      },
    },
    config.ADMISSION_SAMPLE_MS,
  );
  const concurrency = createPaymentLimit(config.ADMISSION_TARGET_LATENCY_MS);
  const saturation = new LoopSaturation(
    config.ADMISSION_MAX_EVENT_LOOP_UTILIZATION_PERCENT / 100,
    load.loopUtilization,
  );
  const admission = new Admission(
    load.readings,
    admissionLimits(config),
    concurrency,
    p.metrics.admissionRefused,
    p.pace,
    saturation,
  );
  return { load, concurrency, admission };
}

/** The gateway's shared consumer groups, as the metrics' lag reads them too. */
const consumerGroups = (config: GatewayConfig, names: TopicNames) => ({
  writer: {
    groupId: groupName(config.KAFKA_TOPIC_PREFIX, config.GATEWAY_GROUP_ID),
    topics: [names.statusPayments],
    fromBeginning: true,
  },
  deposits: {
    groupId: groupName(config.KAFKA_TOPIC_PREFIX, 'gateway-deposit-outcomes'),
    topics: [names.moneyOperationResults],
    fromBeginning: true,
  },
});

/** The status writer, the fan-out and the deposit outcomes, started together once Kafka answers (kafka-side.ts). */
function startConsumers(
  config: GatewayConfig,
  p: {
    ctx: ConsumerContext;
    admin: Admin;
    names: TopicNames;
    groups: ReturnType<typeof consumerGroups>;
    store: PaymentStore;
    hub: StatusHub;
    deposits: DepositStore;
    producer: Sender;
  },
  logger: Logger,
) {
  const fanOutPositions = new FanOutPositions(Date.now(), p.groups.writer.groupId);
  return startKafkaSide(async () => {
    await p.admin.connect();
    await ensureTopics(p.admin, config.KAFKA_TOPIC_PREFIX);
    return startAllOrNone({
      statusWriter: () =>
        startStatusWriter(p.ctx, {
          groupId: p.groups.writer.groupId,
          names: p.names,
          store: p.store,
          producer: p.producer,
        }),
      statusBroadcast: () => startStatusBroadcast(p.ctx, { names: p.names, hub: p.hub, positions: fanOutPositions }),
      depositOutcomes: () =>
        startDepositOutcomes(p.ctx, { groupId: p.groups.deposits.groupId, names: p.names, deposits: p.deposits }),
    });
  }, logger);
}

/** Money in and balances: credits over Kafka, reads from money-storage's internal API. */
const moneyServiceFor = (
  config: GatewayConfig,
  p: Pick<MoneyServiceParts, 'store' | 'deposits' | 'gate' | 'producer' | 'names' | 'sendTimeoutMs' | 'logger'>,
): MoneyService =>
  new MoneyService({
    ...p,
    moneyStorage: new MoneyStorageClient(config.MONEY_STORAGE_URL, config.INTERNAL_SERVICE_TOKEN),
    selfDepositMax: config.SELF_DEPOSIT_MAX,
    selfDeposits: new RateLimiter(config.SELF_DEPOSITS_PER_MINUTE),
  });

/** Ready once the database answers and the consumers have joined (the fan-out among them), not merely once Kafka answers. */
function readinessChecks(
  admin: Admin,
  kafkaSide: { isStarted(): boolean },
  pool: pg.Pool,
): Record<string, ReadinessCheck> {
  const kafkaAnswers = kafkaReadiness(admin);
  return {
    kafka: async () => kafkaSide.isStarted() && (await kafkaAnswers()),
    database: () => isDatabaseReachable(pool),
  };
}
