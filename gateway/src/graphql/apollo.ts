import { ApolloServer, HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type http from 'node:http';
import { GraphQLError, OperationTypeNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { trace } from '@opentelemetry/api';
import type { Logger } from '../../../common/logger';
import { inSpan, tracerOf } from '../../../common/tracing';
import { publicDetails, toPublicError } from '../public-error';
import type { GraphQLContext } from './context';
import { checkLimits, type QueryLimits } from './limits';
import { codedGraphQLError } from '../errors';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApiError, isApiErrorCode, type ApiErrorCode } from '../../../common/api-error';

export interface ApolloOptions {
  production: boolean;
  logger: Logger;
  maxDepth: number;
  maxCost: number;
}

/** Coercion failures of literal arguments are bad input, not a malformed document. */
const BAD_LITERAL =
  /cannot represent|does not exist in ".*" enum|Expected value of type|Expected type|got invalid value/i;

/**
 * One error shape for HTTP and WebSocket, in every mode: graphql's own errors (parse, validation,
 * variable coercion) describe the caller's document and keep their message; everything a resolver
 * threw goes through toPublicError, so no SQL, parameters or stack ever reach a client.
 */
export function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const where = { locations: formatted.locations, path: formatted.path };
    if (original instanceof ApiError || !isAboutTheDocument(formatted, error)) {
      const p = toPublicError(original, logger);
      return { message: p.message, ...where, extensions: publicDetails(p) };
    }
    return { message: formatted.message, ...where, extensions: { code: documentErrorCode(formatted) } };
  };
}

/**
 * graphql's own verdicts on the request (parse, validation, variable coercion, a missing token):
 * Apollo labels them with a code other than INTERNAL_SERVER_ERROR, and over WebSocket they are
 * GraphQLErrors that wrap nothing. Apollo's refusals of a persisted query (a hash that does not
 * match, an unknown version) wrap nothing either and carry a 400 but no code, so Apollo labels
 * them INTERNAL_SERVER_ERROR: a caller's mistake, not a bug to log.
 */
function isAboutTheDocument(formatted: GraphQLFormattedError, error: unknown): boolean {
  const code = formatted.extensions?.code;
  if (code !== undefined && code !== 'INTERNAL_SERVER_ERROR') return true;
  if (!(error instanceof GraphQLError) || error.originalError) return false;
  return code === undefined || isClientStatus(error.extensions.http);
}

const isClientStatus = (http: unknown): boolean => {
  const status = (http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
};

function documentErrorCode(formatted: GraphQLFormattedError): ApiErrorCode {
  const code = formatted.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED';
  if (code === 'GRAPHQL_VALIDATION_FAILED' && BAD_LITERAL.test(formatted.message)) return 'BAD_USER_INPUT';
  return isApiErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR' ? code : 'BAD_REQUEST';
}

export async function createApollo(
  schema: GraphQLSchema,
  options: ApolloOptions,
): Promise<ApolloServer<GraphQLContext>> {
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: !options.production,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    formatError: formatError(options.logger),
    plugins: [
      limitsPlugin({ maxDepth: options.maxDepth, maxCost: options.maxCost, introspection: !options.production }),
      operationNamePlugin,
      // The explorer (http/explorer.ts) is served from our own files; Apollo's landing page loads Sandbox from a CDN.
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();
  return apollo;
}

/**
 * Depth and cost are checked once the variables are known, since `first: $n` is what a page costs.
 * A subscription is refused here too: Apollo would run it as a query, and its field, which only
 * graphql-ws can serve, would answer an internal error.
 */
const limitsPlugin = (limits: QueryLimits): ApolloServerPlugin<GraphQLContext> => ({
  requestDidStart: () =>
    Promise.resolve({
      didResolveOperation: ({ schema, document, request, operation }) => {
        const error =
          operation?.operation === OperationTypeNode.SUBSCRIPTION
            ? codedGraphQLError('BAD_REQUEST', SUBSCRIPTIONS_OVER_WEBSOCKET)
            : checkLimits(schema, document, request.operationName, request.variables, limits);
        return error ? Promise.reject(error) : Promise.resolve();
      },
    }),
});

const SUBSCRIPTIONS_OVER_WEBSOCKET = 'subscriptions are served over WebSocket (graphql-ws) on this path, not over HTTP';

/** Names the request's `graphql` span after its operation once it is known (`graphql mutation CreatePayment`). */
const operationNamePlugin: ApolloServerPlugin<GraphQLContext> = {
  requestDidStart: () =>
    Promise.resolve({
      didResolveOperation: ({ operation, operationName }) => {
        const span = trace.getActiveSpan();
        const type = operation?.operation ?? 'query';
        span?.updateName(`graphql ${type}${operationName ? ` ${operationName}` : ''}`);
        span?.setAttributes({
          'graphql.operation.type': type,
          ...(operationName ? { 'graphql.operation.name': operationName } : {}),
        });
        return Promise.resolve();
      },
    }),
};

/** Runs one HTTP request through Apollo; the body is already parsed (and size-limited) by the caller. */
export async function executeGraphQL(
  apollo: ApolloServer<GraphQLContext>,
  { req, res, search }: { req: http.IncomingMessage; res: http.ServerResponse; search: string },
  body: unknown,
  context: () => Promise<GraphQLContext>,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const result = await inSpan(tracerOf('gateway'), 'graphql', {}, () =>
    apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context,
    }),
  );
  res.statusCode = result.status ?? 200;
  for (const [key, value] of result.headers) res.setHeader(key, value);
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}
