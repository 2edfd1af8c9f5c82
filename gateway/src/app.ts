import http from 'node:http';
import path from 'node:path';
import type { Admin, Consumer } from 'kafkajs';
import { HeaderMap } from '@apollo/server';
import { applyMigrations, connectDatabase, isDatabaseReachable } from '../../common/db';
import { handleHealth, readJson } from '../../common/http';
import { countingParked } from '../../common/kafka/dlq-counter';
import { handleMetrics } from '../../common/metrics';
import { closeServer } from '../../common/health-server';
import { createKafka, ensureTopics } from '../../common/kafka/client';
import { SEND_TIMEOUT_MS, SelfHealingProducer } from '../../common/kafka/self-healing-producer';
import { groupName } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import { PROJECT_ROOT } from '../../common/project-root';
import { kafkaReadiness, type RunningService } from '../../common/service';
import * as schema from '../db/schema';
import { TokenVerifier } from './auth';
import type { GatewayConfig } from './config';
import { BEARER_CHALLENGE, sendPublicError, toPublicError } from './public-error';
import { createApollo, executeGraphQL } from './graphql/apollo';
import type { GraphQLContext } from './graphql/context';
import { buildGatewaySchema } from './graphql/schema';
import { applyCors } from './http/cors';
import { internalRoutes, serveInternalApi } from './http/internal-api';
import { restRoutes } from './http/rest-api';
import { explorerFor } from './http/explorer';
import { attachWebSocket } from './http/websocket';
import { MoneyStorageClient } from './money-storage-client';
import { OutboxRelay } from './outbox-relay';
import { CallerGate } from './caller-gate';
import { startDepositOutcomes } from './deposit-outcomes';
import { DepositStore } from './deposit-store';
import { GatewayMetrics } from './metrics';
import { MoneyService } from './money-service';
import { PaymentService } from './payment-service';
import { PaymentStore } from './payment-store';
import { RateLimiter } from './rate-limiter';
import { StatusHub } from './status-hub';
import { startStatusBroadcast, startStatusWriter } from './status-consumers';
import { tokenPolicy } from './token-config';
import { codedGraphQLError } from './errors';
import { ApiError } from '../../common/api-error';

export interface Gateway extends RunningService {
  port: number;
  /** The internal API's listener (INTERNAL_PORT). */
  internalPort: number;
  hub: StatusHub;
  store: PaymentStore;
}

export async function startGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  await applyMigrations(config.DATABASE_URL, path.join(PROJECT_ROOT, 'gateway', 'db', 'migrations'), 'gateway');
  const database = connectDatabase(config.DATABASE_URL, schema, 20);
  const metrics = new GatewayMetrics();
  const store = new PaymentStore(database.db, config.USER_STATUS_CACHE_MS, metrics.statusChanged);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'gateway', topicPrefix: config.KAFKA_TOPIC_PREFIX, logger });
  const admin: Admin = kafka.admin();
  const producer = new SelfHealingProducer(kafka, logger, Math.max(SEND_TIMEOUT_MS, config.PUBLISH_TIMEOUT_MS * 5));
  await admin.connect();
  const names = await ensureTopics(admin, config.KAFKA_TOPIC_PREFIX);

  const hub = new StatusHub();
  const relay = new OutboxRelay(store, producer, names, logger, {
    sweepAfterMs: Math.max(5000, config.PUBLISH_TIMEOUT_MS * 2),
    sweepEveryMs: config.OUTBOX_RELAY_INTERVAL_MS,
    batchSize: 500,
  });
  const gate = new CallerGate(store, new RateLimiter(config.RATE_LIMIT_PER_MINUTE));
  const deposits = new DepositStore(database.db);
  const services = {
    service: new PaymentService({ store, relay, hub, gate, publishTimeoutMs: config.PUBLISH_TIMEOUT_MS, createTimer: metrics.createPayment }),
    money: new MoneyService({
      store,
      deposits,
      gate,
      moneyStorage: new MoneyStorageClient(config.MONEY_STORAGE_URL, config.INTERNAL_SERVICE_TOKEN),
      producer,
      names,
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
      selfDepositMax: config.SELF_DEPOSIT_MAX,
      selfDeposits: new RateLimiter(config.SELF_DEPOSITS_PER_MINUTE),
      logger,
    }),
  };
  const consumerSettings = { sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS, stallMs: config.KAFKA_CONSUMER_STALL_MS };
  const groups = {
    writer: { groupId: groupName(config.KAFKA_TOPIC_PREFIX, config.GATEWAY_GROUP_ID), topics: [names.statusPayments], fromBeginning: true },
    deposits: { groupId: groupName(config.KAFKA_TOPIC_PREFIX, 'gateway-deposit-outcomes'), topics: [names.moneyOperationResults], fromBeginning: true },
  };
  const consumers: Consumer[] = await Promise.all([
    startStatusWriter(kafka, groups.writer.groupId, names, store, countingParked(producer, metrics.registry), logger, consumerSettings),
    startStatusBroadcast(kafka, names, hub, logger, consumerSettings),
    startDepositOutcomes(kafka, groups.deposits.groupId, names, deposits, logger, consumerSettings),
  ]);
  metrics.watch({ store, hub, admin, groups: Object.values(groups) });
  relay.start();

  const graphqlSchema = await buildGatewaySchema();
  const apollo = await createApollo(graphqlSchema, { production: config.production, logger, maxDepth: config.GRAPHQL_MAX_DEPTH, maxCost: config.GRAPHQL_MAX_COST });
  const tokens = new TokenVerifier(tokenPolicy(config));
  const rest = restRoutes(services.service, tokens, config.BODY_LIMIT_BYTES);
  const explorer = explorerFor(config);
  const checks = { kafka: kafkaReadiness(admin), database: () => isDatabaseReachable(database.pool) };

  const graphqlContext = (req: http.IncomingMessage) => async (): Promise<GraphQLContext> => {
    try {
      return { caller: tokens.authenticate(req.headers.authorization), ...services };
    } catch (e) {
      throw codedGraphQLError('UNAUTHENTICATED', (e as Error).message, new HeaderMap([['www-authenticate', BEARER_CHALLENGE]]));
    }
  };

  const corsOrigins = new Set(config.CORS_ORIGINS);
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (applyCors(req, res, corsOrigins)) return;
    if (await handleHealth(req, res, checks)) return;
    if (await handleMetrics(req, res, metrics.registry)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (explorer?.(req, res, url)) return;
    const pathname = url.pathname;
    if (pathname === '/graphql') {
      const body = req.method === 'POST' ? await readJson(req, config.BODY_LIMIT_BYTES) : undefined;
      await executeGraphQL(apollo, req, res, body, graphqlContext(req));
      return;
    }
    const outcome = await rest.dispatch(req, res);
    if (outcome === 'method-not-allowed') throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
    if (outcome === 'no-route') throw new ApiError('NOT_FOUND', 'no such route');
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (res.headersSent) return void res.destroy();
      // What Apollo never saw (a body too large, not JSON) is still answered in GraphQL's shape on its path.
      const shape = req.url?.split('?')[0] === '/graphql' ? 'graphql' : 'rest';
      sendPublicError(res, toPublicError(e, logger), shape);
    });
  });
  server.keepAliveTimeout = 65_000;
  const ws = attachWebSocket(server, graphqlSchema, services, {
    tokens,
    limits: {
      maxSocketsPerUser: config.WS_MAX_SOCKETS_PER_USER,
      maxSubscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      subscribesPerMinute: config.WS_SUBSCRIBES_PER_MINUTE,
    },
    blocked: { among: (userNames) => store.blockedAmong(userNames), everyMs: config.USER_STATUS_CACHE_MS },
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxCost: config.GRAPHQL_MAX_COST,
    maxPayload: config.BODY_LIMIT_BYTES,
    logger,
  });
  // Before the public port: once /readyz answers, money-storage can reach the internal API.
  const internalServer = await serveInternalApi(internalRoutes(store, config.INTERNAL_SERVICE_TOKEN), { port: config.INTERNAL_PORT, host: config.INTERNAL_HOST }, logger);
  await new Promise<void>((resolve) => server.listen(config.PORT, '0.0.0.0', resolve));
  const port = (server.address() as { port: number }).port;
  logger.info({ port }, 'gateway listening');

  return {
    port,
    internalPort: (internalServer.address() as { port: number }).port,
    hub,
    store,
    stop: async () => {
      // Stop taking requests, let in-flight ones finish, then close consumers (committing) and connections.
      await Promise.all([ws.close(), closeServer(server), closeServer(internalServer)]);
      await apollo.stop();
      await relay.stop();
      await Promise.all(consumers.map((c) => c.disconnect()));
      await Promise.all([producer.disconnect(), admin.disconnect()]);
      await database.close();
    },
  };
}
