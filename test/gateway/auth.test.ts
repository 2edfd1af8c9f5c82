import jwt from 'jsonwebtoken';
import { signToken, TokenVerifier, type TokenPolicy } from '../../gateway/src/auth';
import { testSecrets } from '../support/secrets';
import { ApiError } from '../../common/api-error';

const policy: TokenPolicy = { secret: testSecrets().JWT_SECRET, maxTtlSeconds: 3600, clockToleranceSeconds: 5 };
const verifier = new TokenVerifier(policy);
const now = (): number => Math.floor(Date.now() / 1000);
const bearer = (claims: object): string =>
  `Bearer ${jwt.sign({ sub: 'ann', ...claims }, policy.secret, { algorithm: 'HS256' })}`;
const refusal = (header: string): string => {
  try {
    verifier.verify(header);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe('UNAUTHENTICATED');
    return (e as Error).message;
  }
  throw new Error('expected the token to be refused');
};

/** Whether the verifier takes the header's token. */
const verifies = (verifier: TokenVerifier, header: string): boolean => {
  try {
    verifier.verify(header);
    return true;
  } catch {
    return false;
  }
};

describe('TokenVerifier', () => {
  it('remembers no refused token: a forged one, or one with control characters, is checked and refused every time', () => {
    const signatures = jest.spyOn(jwt, 'verify');
    const fresh = new TokenVerifier(policy);
    const valid = bearer({ exp: now() + 60 });
    const forged = `${valid.slice(0, -2)}${valid.endsWith('AA') ? 'BB' : 'AA'}`;
    try {
      for (const header of [forged, forged, `${valid}\u0000`, `Bearer \ud800${valid.slice(7)}`])
        expect(verifies(fresh, header)).toBe(false);
      expect(signatures).toHaveBeenCalledTimes(2); // the forged token, both times; the others fail before any HMAC
      expect(verifies(fresh, valid)).toBe(true);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('checks a token’s signature once, then knows it until it expires, and refuses it after', () => {
    const signatures = jest.spyOn(jwt, 'verify');
    const fresh = new TokenVerifier(policy);
    const header = bearer({ exp: now() + 60 });
    try {
      expect(fresh.authenticate(header).userName).toBe('ann');
      expect(verifies(fresh, header)).toBe(true);
      expect(fresh.authenticate(header).userName).toBe('ann');
      expect(signatures).toHaveBeenCalledTimes(1);
      const later = Date.now() + 120_000;
      jest.spyOn(Date, 'now').mockReturnValue(later);
      expect(() => fresh.authenticate(header)).toThrow('token expired');
      expect(verifies(fresh, header)).toBe(false);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('reads the roles it knows and ignores the others', () => {
    expect(verifier.authenticate(bearer({ exp: now() + 60, roles: ['auditor', 'operator'] }))).toEqual({
      userName: 'ann',
      roles: ['operator'],
    });
    expect(verifier.authenticate(bearer({ exp: now() + 60, roles: ['superuser'] })).roles).toEqual([]);
    expect(verifier.authenticate(bearer({ exp: now() + 60 })).roles).toEqual([]);
  });

  it('refuses a roles claim that is not a list of strings', () => {
    expect(refusal(bearer({ exp: now() + 60, roles: 'operator' }))).toMatch(/roles/);
    expect(refusal(bearer({ exp: now() + 60, roles: [1] }))).toMatch(/roles/);
  });

  it('requires exp, within the tolerance, and no further ahead than the cap', () => {
    expect(refusal(bearer({}))).toBe('token has no exp');
    expect(refusal(bearer({ exp: now() - 30 }))).toBe('token expired');
    expect(verifier.authenticate(bearer({ exp: now() - 2 })).userName).toBe('ann');
    expect(refusal(bearer({ exp: now() + 7200 }))).toMatch(/lifetime exceeds 3600 s/);
    expect(refusal(bearer({ iat: now() - 7000, exp: now() + 60 }))).toMatch(/lifetime exceeds/);
  });

  it('holds a token granting operator to a shorter lifetime of its own, a user token to the usual one', () => {
    const short = new TokenVerifier({ ...policy, operatorMaxTtlSeconds: 900 });
    const iat = now();
    expect(short.authenticate(bearer({ iat, exp: iat + 900, roles: ['operator'] })).roles).toEqual(['operator']);
    expect(() => short.authenticate(bearer({ iat, exp: iat + 901, roles: ['operator'] }))).toThrow(
      'token lifetime exceeds 900 s',
    );
    // Without iat, how far ahead exp lies is what counts.
    expect(() => short.authenticate(bearer({ exp: iat + 1800, roles: ['operator'] }))).toThrow(/exceeds 900 s/);
    expect(short.authenticate(bearer({ iat, exp: iat + 3600 })).roles).toEqual([]);
    // A role this gateway ignores does not shorten anything.
    expect(short.authenticate(bearer({ iat, exp: iat + 3600, roles: ['auditor'] })).roles).toEqual([]);
  });

  it('says until when the token is accepted: exp plus the tolerance', () => {
    const exp = now() + 60;
    expect(verifier.verify(bearer({ exp })).validUntilMs).toBe((exp + 5) * 1000);
  });

  it('checks iss and aud only when configured, and signs them in', () => {
    const strict = new TokenVerifier({ ...policy, issuer: 'payments', audience: 'gateway' });
    const token = signToken(
      'ann',
      { ...policy, issuer: 'payments', audience: 'gateway' },
      { roles: ['operator'], ttlSeconds: 600 },
    );
    expect(strict.authenticate(`Bearer ${token}`)).toEqual({ userName: 'ann', roles: ['operator'] });
    expect(() => strict.authenticate(bearer({ exp: now() + 60 }))).toThrow('token is for another issuer or audience');
    expect(() => strict.authenticate(bearer({ exp: now() + 60, iss: 'payments', aud: 'elsewhere' }))).toThrow(
      'token is for another issuer or audience',
    );
    expect(verifier.authenticate(`Bearer ${token}`).userName).toBe('ann');
  });
});
