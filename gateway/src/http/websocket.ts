import type http from 'node:http';
import { parse, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticate, type Caller } from '../auth';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/apollo';
import { checkLimits, type QueryLimits } from '../graphql/limits';
import { sharedExecutionSubscribe } from '../graphql/shared-execution';
import type { Logger } from '../../../common/logger';

export const CLOSE_UNAUTHORIZED = 4401;

/**
 * graphql-ws on the same port and path as HTTP GraphQL. The token comes in `connection_init`
 * (`{ authorization: "Bearer ..." }`); without a valid one the socket is closed with 4401.
 */
export function attachWebSocket(
  server: http.Server,
  schema: GraphQLSchema,
  services: Omit<GraphQLContext, 'caller'>,
  options: { jwtSecret: string; maxDepth: number; maxCost: number; maxPayload: number; logger: Logger },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: options.maxPayload });
  const callers = new WeakMap<object, Caller>();
  const format = formatError(options.logger);
  const formatAll = (errors: readonly GraphQLError[]) => errors.map((e) => format(e.toJSON(), e));
  const disposable = useServer<Record<string, unknown> | undefined, { caller?: Caller }>(
    {
      schema,
      onSubscribe: (_ctx, _id, payload) => {
        const error = limitsError(schema, payload, options);
        return error ? [error] : undefined;
      },
      subscribe: sharedExecutionSubscribe(),
      onConnect: (ctx) => {
        try {
          callers.set(ctx.extra.socket, authenticate(ctx.connectionParams?.authorization, options.jwtSecret));
          return true;
        } catch (e) {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, (e as Error).message.slice(0, 100));
          return false;
        }
      },
      // Same error shape as over HTTP: `extensions.code`, no internals in production.
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatAll(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
      context: (ctx): GraphQLContext => ({ caller: callers.get(ctx.extra.socket) ?? null, ...services }),
    },
    wss,
  );
  return {
    close: async () => {
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The same depth and cost limits as over HTTP; a document that does not parse is graphql-ws's to report. */
function limitsError(
  schema: GraphQLSchema,
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  limits: QueryLimits,
): GraphQLError | undefined {
  let document: DocumentNode;
  try {
    document = parse(payload.query);
  } catch {
    return undefined;
  }
  return checkLimits(schema, document, payload.operationName, payload.variables, limits);
}
