import http from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Registry } from 'prom-client';
import { ApiError } from '../../../common/api-error';
import { listen, type RunningServer } from '../../../common/health-server';
import { handleHealth, readinessOf, readJson, requestUrl, type ReadinessCheck } from '../../../common/http';
import { composite, stoppable, type StopStage } from '../../../common/lifecycle';
import type { Logger } from '../../../common/logger';
import { handleMetrics } from '../../../common/metrics';
import type { Admission } from '../admission';
import { TokenVerifier, type Caller } from '../auth';
import type { GatewayConfig } from '../config';
import { codedGraphQLError } from '../errors';
import { createApollo, executeGraphQL } from '../graphql/apollo';
import type { GraphQLContext } from '../graphql/context';
import { asksToCreatePayment } from '../graphql/new-payment-request';
import { buildGatewaySchema } from '../graphql/schema';
import type { PaymentStore } from '../payment-store';
import { BEARER_CHALLENGE, sendPublicError, toPublicError } from '../public-error';
import { tokenPolicy } from '../token-config';
import { applyCors } from './cors';
import { explorerFor } from './explorer';
import { restRoutes } from './rest-api';
import { traceRequest } from '../../../common/http-tracing';
import { tracerOf } from '../../../common/tracing';
import { attachWebSocket } from './websocket';

/** What the public port serves, wired by startGateway. */
export interface PublicHttpDeps {
  services: Omit<GraphQLContext, 'caller'>;
  /** Open sockets of users blocked since are closed (see websocket.ts). */
  store: PaymentStore;
  /** Also consulted before Apollo, so that a refused createPayment costs little (see new-payment-request.ts). */
  admission: Admission;
  checks: Record<string, ReadinessCheck>;
  registry: Registry;
  logger: Logger;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** The public port: GraphQL over HTTP and WebSocket, REST, the explorer, health and metrics. */
export async function startPublicHttp(config: GatewayConfig, deps: PublicHttpDeps): Promise<RunningServer> {
  const { logger } = deps;
  const schema = await buildGatewaySchema();
  const apollo = await createApollo(schema, {
    production: config.production,
    logger,
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxCost: config.GRAPHQL_MAX_COST,
  });
  const tokens = new TokenVerifier(tokenPolicy(config));
  const handle = publicHandler(config, deps, apollo, tokens);
  const tracer = tracerOf('gateway');
  const server = http.createServer((req, res) => {
    traceRequest(tracer, req, res, () => handle(req, res)).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      // What Apollo never saw (a body too large, not JSON) is still answered in GraphQL's shape on its path.
      const shape = req.url?.split('?')[0] === '/graphql' ? 'graphql' : 'rest';
      sendPublicError(res, toPublicError(e, logger), shape);
    });
  });
  server.keepAliveTimeout = 65_000;
  const ws = attachWebSocket(server, schema, deps.services, {
    tokens,
    limits: {
      maxSocketsPerUser: config.WS_MAX_SOCKETS_PER_USER,
      maxSubscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      subscribesPerMinute: config.WS_SUBSCRIBES_PER_MINUTE,
    },
    blocked: { among: (userNames) => deps.store.blockedAmong(userNames), everyMs: config.USER_STATUS_CACHE_MS },
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxCost: config.GRAPHQL_MAX_COST,
    maxSubscriptionCost: config.GRAPHQL_MAX_SUBSCRIPTION_COST,
    maxPayload: config.BODY_LIMIT_BYTES,
    logger,
  });
  const listening = await listen(server, { port: config.PORT, host: '0.0.0.0', backlog: config.LISTEN_BACKLOG });
  logger.info({ port: listening.port }, 'gateway listening');
  // Stop taking requests and let those in flight finish before Apollo goes.
  const stages: StopStage[] = [{ websocket: ws, listener: listening }, { apollo: stoppable(() => apollo.stop()) }];
  return { port: listening.port, ...composite('the public port', stages) };
}

function publicHandler(
  config: GatewayConfig,
  deps: PublicHttpDeps,
  apollo: ApolloServer<GraphQLContext>,
  tokens: TokenVerifier,
): Handler {
  const rest = restRoutes(deps.services.service, tokens, config.BODY_LIMIT_BYTES);
  const explorer = explorerFor(config);
  const corsOrigins = new Set(config.CORS_ORIGINS);
  const readiness = readinessOf(deps.checks);
  // `caller`: already authenticated (a POST's, before its body was read); a GET's is authenticated here.
  const graphqlContext = (req: http.IncomingMessage, caller: Caller | undefined) => (): Promise<GraphQLContext> => {
    try {
      return Promise.resolve({ caller: caller ?? tokens.authenticate(req.headers.authorization), ...deps.services });
    } catch (e) {
      return Promise.reject(
        codedGraphQLError(
          'UNAUTHENTICATED',
          (e as Error).message,
          new HeaderMap([['www-authenticate', BEARER_CHALLENGE]]),
        ),
      );
    }
  };
  // Throws RESOURCE_EXHAUSTED (429 + Retry-After, in GraphQL's shape); only a signed-in caller's
  // body is ever read, so a caller without a valid token has had its 401 already.
  const refuseNewPaymentEarly = (body: unknown): void => {
    if (deps.admission.overload() && asksToCreatePayment(body)) deps.admission.check();
  };
  return async (req, res) => {
    if (applyCors(req, res, corsOrigins)) return;
    if (await handleHealth(req, res, readiness)) return;
    if (await handleMetrics(req, res, deps.registry)) return;
    const url = requestUrl(req);
    if (!url) throw new ApiError('NOT_FOUND', 'no such route');
    if (explorer?.(req, res, url)) return;
    if (url.pathname === '/graphql') {
      // Every operation needs a token: without one the answer is 401 before the body is read, so
      // an anonymous flood of large bodies costs no parsing.
      const caller = req.method === 'POST' ? tokens.authenticate(req.headers.authorization) : undefined;
      const body = caller ? await readJson(req, config.BODY_LIMIT_BYTES) : undefined;
      refuseNewPaymentEarly(body);
      await executeGraphQL(apollo, { req, res, search: url.search }, body, graphqlContext(req, caller));
      return;
    }
    const outcome = await rest.dispatch(req, res, url);
    if (outcome === 'method-not-allowed') throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
    if (outcome === 'no-route') throw new ApiError('NOT_FOUND', 'no such route');
  };
}
