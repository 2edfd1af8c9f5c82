import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { GatewayError } from './errors';

/** Who is calling: the token's `sub`, which is the user's unique name. */
export interface Caller {
  userName: string;
  roles: readonly Role[];
}

export type Role = 'operator';

const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export const isValidUserName = (name: string): boolean => USER_NAME.test(name);

export function signToken(userName: string, secret: string, expiresIn: jwt.SignOptions['expiresIn'] = '12h'): string {
  if (!isValidUserName(userName)) throw new Error(`invalid user name ${JSON.stringify(userName)}: 1-64 of A-Z a-z 0-9 _ . @ -`);
  return jwt.sign({}, secret, { algorithm: 'HS256', subject: userName, expiresIn });
}

const keys = new Map<string, KeyObject>();
/** jsonwebtoken turns a string secret into a key on every call (first trying it as a public key): ~10% of the gateway's CPU under load. */
const keyFor = (secret: string): KeyObject => {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
};

/**
 * Accepts only `Bearer <HS256 JWT>` signed with our secret: pinning the algorithm is what
 * rejects `alg: none` and key-confusion tokens.
 */
export function authenticate(header: unknown, secret: string): Caller {
  if (typeof header !== 'string' || header.length === 0) {
    throw new GatewayError('UNAUTHENTICATED', 'missing Authorization: Bearer <token>');
  }
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header.trim());
  if (!match) throw new GatewayError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
  let claims: jwt.JwtPayload | string;
  try {
    claims = jwt.verify(match[1]!, keyFor(secret), { algorithms: ['HS256'] });
  } catch (e) {
    const reason = e instanceof jwt.TokenExpiredError ? 'token expired' : 'invalid token';
    throw new GatewayError('UNAUTHENTICATED', reason);
  }
  const sub = typeof claims === 'object' ? claims.sub : undefined;
  if (typeof sub !== 'string' || !isValidUserName(sub)) throw new GatewayError('UNAUTHENTICATED', 'token has no valid subject');
  return { userName: sub, roles: Array.isArray((claims as jwt.JwtPayload).roles) && (claims as jwt.JwtPayload).roles.includes('operator') ? ['operator'] : [] };
}
