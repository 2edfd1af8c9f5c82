import { ApolloServer, HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type http from 'node:http';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { GatewayError } from '../errors';
import type { GraphQLContext } from './context';
import { queryLimits, TOO_COMPLEX_MESSAGE } from './limits';

export interface ApolloOptions {
  production: boolean;
  maxDepth: number;
  maxCost: number;
}

/** Coercion failures of literal arguments are bad input, not a malformed document. */
const BAD_LITERAL = /cannot represent|does not exist in ".*" enum|Expected value of type|Expected type|got invalid value/i;

export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: { code: original.code } };
    }
    const code = formatted.extensions?.code;
    if (code === 'GRAPHQL_VALIDATION_FAILED' && TOO_COMPLEX_MESSAGE.test(formatted.message)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'QUERY_TOO_COMPLEX' } };
    }
    if (code === 'GRAPHQL_VALIDATION_FAILED' && BAD_LITERAL.test(formatted.message)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
    }
    if (production && (code === 'INTERNAL_SERVER_ERROR' || code === undefined)) {
      return { message: 'internal error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
    return formatted;
  };
}

export async function createApollo(schema: GraphQLSchema, options: ApolloOptions): Promise<ApolloServer<GraphQLContext>> {
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    validationRules: [queryLimits(options.maxDepth, options.maxCost)],
    introspection: !options.production,
    includeStacktraceInErrorResponses: !options.production,
    allowBatchedHttpRequests: false,
    formatError: formatError(options.production),
    plugins: [options.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true })],
  });
  await apollo.start();
  return apollo;
}

/** Runs one HTTP request through Apollo; the body is already parsed (and size-limited) by the caller. */
export async function executeGraphQL(
  apollo: ApolloServer<GraphQLContext>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: unknown,
  context: () => Promise<GraphQLContext>,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
    context,
  });
  res.statusCode = result.status ?? 200;
  for (const [key, value] of result.headers) res.setHeader(key, value);
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}
