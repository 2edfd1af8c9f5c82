import type http from 'node:http';
import { specifiedRules, validate, type GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { TokenVerifier } from '../auth';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/apollo';
import { queryLimits } from '../graphql/limits';
import { sharedExecutionSubscribe } from '../graphql/shared-execution';
import type { PaymentService } from '../payment-service';
import { SocketSessions, type SocketLimits } from './socket-sessions';

export const CLOSE_UNAUTHORIZED = 4401;

/**
 * graphql-ws on the same port and path as HTTP GraphQL. The token comes in `connection_init`
 * (`{ authorization: "Bearer ..." }`); without a valid one the socket is closed with 4401, and it
 * is closed with 4403 when the token expires.
 */
export function attachWebSocket(
  server: http.Server,
  schema: GraphQLSchema,
  service: PaymentService,
  options: { tokens: TokenVerifier; limits: SocketLimits; maxDepth: number; maxCost: number; maxPayload: number; production: boolean },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: options.maxPayload });
  const rules = [...specifiedRules, queryLimits(options.maxDepth, options.maxCost)];
  const sessions = new SocketSessions(options.limits);
  const format = formatError(options.production);
  const formatAll = (errors: readonly GraphQLError[]) => errors.map((e) => format(e.toJSON(), e));
  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      validate: (s, document) => validate(s, document, rules),
      subscribe: sharedExecutionSubscribe(),
      onConnect: (ctx) => {
        try {
          return sessions.open(ctx.extra.socket, options.tokens.verify(ctx.connectionParams?.authorization));
        } catch (e) {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, (e as Error).message.slice(0, 100));
          return false;
        }
      },
      onSubscribe: (ctx) => sessions.refuseSubscribe(ctx.extra.socket, Object.keys(ctx.subscriptions).length),
      onClose: (ctx) => sessions.close(ctx.extra.socket),
      // Same error shape as over HTTP: `extensions.code`, no internals in production.
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatAll(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
      context: (ctx): GraphQLContext => ({ caller: sessions.caller(ctx.extra.socket), service }),
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
