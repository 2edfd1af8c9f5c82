import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ApiError } from '../../common/api-error';

/** What a token may allow beyond the caller's own payments. */
export type Role = 'operator';
export const ROLES: readonly Role[] = ['operator'];

/** Who is calling: the token's `sub`, which is the user's unique name, and the roles it grants. */
export interface Caller {
  userName: string;
  roles: readonly Role[];
}

/** What a token must satisfy besides its HS256 signature (the JWT_* settings). */
export interface TokenPolicy {
  secret: string;
  /** Longest accepted lifetime: exp − iat, and exp − now. */
  maxTtlSeconds: number;
  /**
   * The same for a token that grants `operator`, when shorter: the role is read from the token
   * alone, so a leaked one, or one kept by somebody no longer an operator, must stop working soon.
   */
  operatorMaxTtlSeconds?: number;
  /** Leeway for clocks that disagree, on exp and nbf. */
  clockToleranceSeconds: number;
  /** Checked (and signed in) only when set. */
  issuer?: string;
  audience?: string;
}

export interface VerifiedToken {
  caller: Caller;
  /** When the token stops being accepted (exp plus the clock tolerance), in ms since the epoch. */
  validUntilMs: number;
}

const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export const isValidUserName = (name: string): boolean => USER_NAME.test(name);

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

export function signToken(
  userName: string,
  policy: Pick<TokenPolicy, 'secret' | 'issuer' | 'audience'>,
  claims: { roles?: readonly Role[]; ttlSeconds?: number } = {},
): string {
  if (!isValidUserName(userName))
    throw new Error(`invalid user name ${JSON.stringify(userName)}: 1-64 of A-Z a-z 0-9 _ . @ -`);
  return jwt.sign({ roles: claims.roles ?? [] }, policy.secret, {
    algorithm: 'HS256',
    subject: userName,
    expiresIn: claims.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
    // jsonwebtoken refuses an explicit undefined here.
    ...(policy.issuer ? { issuer: policy.issuer } : {}),
    ...(policy.audience ? { audience: policy.audience } : {}),
  });
}

const unauthenticated = (reason: string): ApiError => new ApiError('UNAUTHENTICATED', reason);

/** Tokens remembered as verified; past this, the oldest is forgotten first. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Accepts only `Bearer <HS256 JWT>` signed with our secret: pinning the algorithm is what
 * rejects `alg: none` and key-confusion tokens. A token must expire, and not too far ahead, so a
 * leaked one is worth little for long.
 */
export class TokenVerifier {
  /** jsonwebtoken turns a string secret into a key on every call (first trying it as a public key): ~10% of the gateway's CPU under load. */
  private readonly key: KeyObject;
  /**
   * Tokens already verified, by their exact text, until they expire: a client sends the same token
   * with every request, and its HMAC was ~8% of the gateway's loop under load. Only a token that
   * passed every check gets here (so only one signed with the secret), a refused one is checked
   * again each time, and nothing about a token changes before its `exp` but the clock.
   */
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(private readonly policy: TokenPolicy) {
    this.key = createSecretKey(Buffer.from(policy.secret, 'utf8'));
  }

  authenticate(header: unknown): Caller {
    return this.verify(header).caller;
  }

  verify(header: unknown): VerifiedToken {
    const token = bearerToken(header);
    const known = this.verified.get(token);
    if (known && Date.now() < known.validUntilMs) return known;
    // Shared by every request with this token from now on, so nobody may change it.
    const verified = Object.freeze(this.verifyAfresh(token));
    Object.freeze(verified.caller);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, verified);
    return verified;
  }

  private verifyAfresh(token: string): VerifiedToken {
    const claims = this.claims(token);
    const { clockToleranceSeconds } = this.policy;
    if (typeof claims.exp !== 'number') throw unauthenticated('token has no exp');
    const caller = { userName: subject(claims), roles: roles(claims) };
    const longest = this.longestLifetime(caller.roles);
    const ahead = claims.exp - Date.now() / 1000;
    const lifetime = typeof claims.iat === 'number' ? claims.exp - claims.iat : 0;
    if (ahead > longest + clockToleranceSeconds || lifetime > longest) {
      throw unauthenticated(`token lifetime exceeds ${longest} s`);
    }
    return { caller, validUntilMs: (claims.exp + clockToleranceSeconds) * 1000 };
  }

  private longestLifetime(granted: readonly Role[]): number {
    const { maxTtlSeconds, operatorMaxTtlSeconds } = this.policy;
    return granted.includes('operator')
      ? Math.min(maxTtlSeconds, operatorMaxTtlSeconds ?? maxTtlSeconds)
      : maxTtlSeconds;
  }

  private claims(token: string): jwt.JwtPayload {
    const { issuer, audience, clockToleranceSeconds } = this.policy;
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, this.key, {
        algorithms: ['HS256'],
        clockTolerance: clockToleranceSeconds,
        issuer,
        audience,
      });
    } catch (e) {
      throw unauthenticated(reasonFor(e));
    }
    if (typeof claims !== 'object') throw unauthenticated('invalid token');
    return claims;
  }
}

function bearerToken(header: unknown): string {
  if (typeof header !== 'string' || header.length === 0) throw unauthenticated('missing Authorization: Bearer <token>');
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header.trim());
  if (!match) throw unauthenticated('Authorization must be "Bearer <token>"');
  return match[1]!;
}

/** Says which check failed without echoing what the gateway expected (issuer, audience). */
function reasonFor(e: unknown): string {
  if (e instanceof jwt.TokenExpiredError) return 'token expired';
  if (e instanceof jwt.NotBeforeError) return 'token not valid yet';
  if (e instanceof jwt.JsonWebTokenError && /issuer|audience/.test(e.message))
    return 'token is for another issuer or audience';
  return 'invalid token';
}

function subject(claims: jwt.JwtPayload): string {
  if (typeof claims.sub !== 'string' || !isValidUserName(claims.sub))
    throw unauthenticated('token has no valid subject');
  return claims.sub;
}

/**
 * Roles this gateway does not know are ignored, not refused: an issuer may grant roles meant for
 * other services, and an unknown one can grant nothing here. A malformed claim is refused.
 */
function roles(claims: jwt.JwtPayload): readonly Role[] {
  const claimed: unknown = claims.roles ?? [];
  if (!Array.isArray(claimed) || !claimed.every((r) => typeof r === 'string'))
    throw unauthenticated('token roles must be a list of strings');
  return ROLES.filter((role) => claimed.includes(role));
}

export const DEFAULT_MAX_TTL_SECONDS = 86_400;
export const DEFAULT_OPERATOR_MAX_TTL_SECONDS = 3600;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
