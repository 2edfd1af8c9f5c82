import type http from 'node:http';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { TokenVerifier } from '../auth';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/apollo';
import { codedGraphQLError } from '../errors';
import { checkLimits, type QueryLimits } from '../graphql/limits';
import { sharedExecutionSubscribe } from '../graphql/shared-execution';
import { SharedDocuments } from '../graphql/shared-documents';
import type { Logger } from '../../../common/logger';
import { SocketSessions, type SocketLimits } from './socket-sessions';
import type { Stoppable } from '../../../common/lifecycle';

export const CLOSE_UNAUTHORIZED = 4401;

/**
 * graphql-ws on the same port and path as HTTP GraphQL. The token comes in `connection_init`
 * (`{ authorization: "Bearer ..." }`); without a valid one the socket is closed with 4401, and it
 * is closed with 4403 when the token expires.
 */
export function attachWebSocket(
  server: http.Server,
  schema: GraphQLSchema,
  services: Omit<GraphQLContext, 'caller'>,
  options: {
    tokens: TokenVerifier;
    limits: SocketLimits;
    blocked: BlockedUsers;
    maxDepth: number;
    maxCost: number;
    maxSubscriptionCost: number;
    maxPayload: number;
    logger: Logger;
  },
): Stoppable {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: options.maxPayload });
  const sessions = new SocketSessions(options.limits);
  const sweep = sweepBlocked(sessions, options.blocked, options.logger);
  const format = formatError(options.logger);
  const formatAll = (errors: readonly GraphQLError[]) => errors.map((e) => format(e.toJSON(), e));
  // Subscribers sending the same query text share its parsed document (see shared-documents.ts).
  const documents = new SharedDocuments(schema);
  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      parse: documents.parse,
      validate: documents.validate,
      subscribe: sharedExecutionSubscribe(),
      onConnect: (ctx) => {
        try {
          return sessions.open(ctx.extra.socket, options.tokens.verify(ctx.connectionParams?.authorization));
        } catch (e) {
          // The verifier's and the sessions' refusals are short ASCII text, within a close frame's 123 bytes.
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, e instanceof Error ? e.message.slice(0, 100) : 'unauthorized');
          return false;
        }
      },
      onSubscribe: (ctx, id, payload) => {
        const socket = ctx.extra.socket;
        const refused = sessions.refuseSubscribe(socket, Object.keys(ctx.subscriptions).length);
        if (refused) return refused;
        const refusal = refuseDocument(schema, documents, payload, options);
        if (refusal) return [refusal];
        if (sessions.starting(socket, id, payload)) return undefined;
        socket.close(CloseCode.SubscriberAlreadyExists, 'Subscriber for this id already exists'); // a fixed reason: ws refuses one over 123 bytes
        return [codedGraphQLError('BAD_REQUEST', 'this operation id is still starting')];
      },
      onOperation: (ctx, id, payload) => {
        sessions.started(ctx.extra.socket, id, payload);
        return undefined;
      },
      onClose: (ctx) => sessions.close(ctx.extra.socket),
      // Same error shape as over HTTP: `extensions.code`, no internals in production.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatAll(result.errors) } : undefined,
      onError: (ctx, id, payload, errors) => {
        sessions.started(ctx.extra.socket, id, payload);
        return formatAll(errors);
      },
      context: (ctx): GraphQLContext => ({ caller: sessions.caller(ctx.extra.socket), ...services }),
    },
    wss,
  );
  return {
    stop: async () => {
      clearInterval(sweep);
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export interface BlockedUsers {
  among(userNames: string[]): Promise<ReadonlySet<string>>;
  /** How often open sockets are checked: the same bound as the status cache of every other operation. */
  everyMs: number;
}

/**
 * A block set through any replica reaches the subscriptions a user already holds here within
 * `everyMs`: one query for all connected users, never one per event.
 */
function sweepBlocked(sessions: SocketSessions, blocked: BlockedUsers, logger: Logger): NodeJS.Timeout {
  let checking = false;
  const timer = setInterval(() => {
    const users = sessions.users();
    if (checking || users.length === 0) return;
    checking = true;
    blocked
      .among(users)
      .then(
        (names) => sessions.closeBlocked(names),
        (e: unknown) => logger.warn({ err: e }, 'could not check sockets for blocked users'),
      )
      .finally(() => {
        checking = false;
      });
  }, blocked.everyMs);
  timer.unref();
  return timer;
}

/**
 * The same depth and cost limits as over HTTP, and the same GRAPHQL_PARSE_FAILED for a document
 * that does not parse: left to graphql-ws, its parse error (or a stack overflow from a deeply
 * nested one) escapes to `use/ws`, which closes the whole socket with 4500.
 */
function refuseDocument(
  schema: GraphQLSchema,
  documents: SharedDocuments,
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  limits: QueryLimits,
): GraphQLError | undefined {
  let document: DocumentNode;
  try {
    document = documents.parse(payload.query);
  } catch (e) {
    const message = e instanceof GraphQLError ? e.message : 'the query could not be parsed';
    return codedGraphQLError('GRAPHQL_PARSE_FAILED', message);
  }
  return checkLimits(schema, document, payload.operationName, payload.variables, limits);
}
