import type { GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import type { Caller, VerifiedToken } from '../auth';
import { codedGraphQLError } from '../errors';
import { RateLimiter } from '../rate-limiter';

/** graphql-ws's own Forbidden code, with the reason a client can act on: its token expired, or its account is blocked. */
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_TOO_MANY_SOCKETS = 4429;

export interface SocketLimits {
  maxSocketsPerUser: number;
  maxSubscriptionsPerSocket: number;
  /** Subscribe messages per user per minute, across their sockets; 0 = no limit. */
  subscribesPerMinute: number;
}

interface Session {
  caller: Caller;
  expiry: NodeJS.Timeout;
  /** Operation ids whose subscribe has not yet become a running operation, with that subscribe's payload (see `starting`). */
  starting: Map<string, object>;
}

/** A function shared by every socket's expiry timer (the socket is its argument), not a closure per socket. */
const closeExpired = (socket: WebSocket): void => socket.close(CLOSE_FORBIDDEN, 'token expired');

const rateLimited = (message: string): GraphQLError[] => [codedGraphQLError('RATE_LIMITED', message)];

/**
 * Who is on each authenticated socket, for how long, and how much of the gateway one user may
 * hold: a socket lives no longer than its token, and sockets, subscriptions and subscribes are capped.
 */
export class SocketSessions {
  private readonly sessions = new Map<WebSocket, Session>();
  private readonly socketsPerUser = new Map<string, number>();
  private readonly subscribes: RateLimiter;

  constructor(private readonly limits: SocketLimits) {
    this.subscribes = new RateLimiter(limits.subscribesPerMinute);
  }

  /** Admits the socket, or closes it (4429) when its user already holds the most sockets allowed. */
  open(socket: WebSocket, token: VerifiedToken): boolean {
    const { userName } = token.caller;
    const held = this.socketsPerUser.get(userName) ?? 0;
    if (held >= this.limits.maxSocketsPerUser) {
      socket.close(CLOSE_TOO_MANY_SOCKETS, `too many sockets for this user (at most ${this.limits.maxSocketsPerUser})`);
      return false;
    }
    this.socketsPerUser.set(userName, held + 1);
    const expiry = setTimeout(closeExpired, token.validUntilMs - Date.now(), socket);
    // Cleared when the socket closes; unref'd so a socket still closing never holds a stopping process.
    expiry.unref();
    this.sessions.set(socket, { caller: token.caller, expiry, starting: new Map() });
    return true;
  }

  /** Called for every socket that closes, admitted or not. */
  close(socket: WebSocket): void {
    const session = this.sessions.get(socket);
    if (!session) return;
    this.sessions.delete(socket);
    clearTimeout(session.expiry);
    const { userName } = session.caller;
    const held = (this.socketsPerUser.get(userName) ?? 1) - 1;
    if (held > 0) this.socketsPerUser.set(userName, held);
    else this.socketsPerUser.delete(userName);
  }

  /** Users holding sockets here now. */
  users(): string[] {
    return [...this.socketsPerUser.keys()];
  }

  /** Closes every socket of these users: a block reaches the subscriptions they already hold. */
  closeBlocked(userNames: ReadonlySet<string>): void {
    for (const [socket, session] of this.sessions)
      if (userNames.has(session.caller.userName)) socket.close(CLOSE_FORBIDDEN, 'account blocked');
  }

  caller(socket: WebSocket): Caller | null {
    return this.sessions.get(socket)?.caller ?? null;
  }

  /**
   * Marks operation `id` as starting; false if a subscribe of that id is starting already. graphql-ws
   * (6.4) forgets an id once the client completes it, so `subscribe X, complete X, subscribe X`
   * while the first still starts runs both, keeps the second and never ends the first: a
   * subscription that nothing counts or closes, not even the socket's end. Such an id is refused
   * as graphql-ws refuses any id in use (4409).
   */
  starting(socket: WebSocket, id: string, payload: object): boolean {
    const starting = this.sessions.get(socket)?.starting;
    if (!starting) return true; // not admitted: graphql-ws refuses it itself
    if (starting.has(id)) return false;
    starting.set(id, payload);
    return true;
  }

  /**
   * The subscribe that sent `payload` runs (or was refused): its id may be used again once the
   * client completes it. Only its own mark goes: a refused duplicate's error must not clear the
   * mark of the subscribe still starting (the socket is closing, but `ws` reads on meanwhile).
   */
  started(socket: WebSocket, id: string, payload: object): void {
    const starting = this.sessions.get(socket)?.starting;
    if (starting?.get(id) === payload) starting.delete(id);
  }

  /** Errors refusing a subscribe, or undefined to let it run; `active` counts it among the socket's operations. */
  refuseSubscribe(socket: WebSocket, active: number): GraphQLError[] | undefined {
    const caller = this.caller(socket);
    if (!caller) return undefined; // not admitted: graphql-ws refuses it itself
    if (active > this.limits.maxSubscriptionsPerSocket) {
      return rateLimited(`too many subscriptions on this socket (at most ${this.limits.maxSubscriptionsPerSocket})`);
    }
    const wait = this.subscribes.take(caller.userName);
    if (wait > 0) return rateLimited(`too many subscribes; retry in ${wait} s`);
    return undefined;
  }
}
