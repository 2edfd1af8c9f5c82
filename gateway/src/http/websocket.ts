import type http from 'node:http';
import { specifiedRules, validate, type GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Caller, TokenVerifier } from '../auth';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/apollo';
import { queryLimits } from '../graphql/limits';
import { sharedExecutionSubscribe } from '../graphql/shared-execution';
import type { PaymentService } from '../payment-service';

export const CLOSE_UNAUTHORIZED = 4401;

/**
 * graphql-ws on the same port and path as HTTP GraphQL. The token comes in `connection_init`
 * (`{ authorization: "Bearer ..." }`); without a valid one the socket is closed with 4401.
 */
export function attachWebSocket(
  server: http.Server,
  schema: GraphQLSchema,
  service: PaymentService,
  options: { tokens: TokenVerifier; maxDepth: number; maxCost: number; maxPayload: number; production: boolean },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: options.maxPayload });
  const rules = [...specifiedRules, queryLimits(options.maxDepth, options.maxCost)];
  const callers = new WeakMap<object, Caller>();
  const format = formatError(options.production);
  const formatAll = (errors: readonly GraphQLError[]) => errors.map((e) => format(e.toJSON(), e));
  const disposable = useServer<Record<string, unknown> | undefined, { caller?: Caller }>(
    {
      schema,
      validate: (s, document) => validate(s, document, rules),
      subscribe: sharedExecutionSubscribe(),
      onConnect: (ctx) => {
        try {
          callers.set(ctx.extra.socket, options.tokens.authenticate(ctx.connectionParams?.authorization));
          return true;
        } catch (e) {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, (e as Error).message.slice(0, 100));
          return false;
        }
      },
      // Same error shape as over HTTP: `extensions.code`, no internals in production.
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatAll(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
      context: (ctx): GraphQLContext => ({ caller: callers.get(ctx.extra.socket) ?? null, service }),
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
