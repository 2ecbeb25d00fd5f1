// Access tokens: short-lived HS256 JWTs signed and verified with fast-jwt. Verification pins
// the algorithm, issuer and audience, and caches verified tokens until they expire (the
// revocation list is still consulted on every request, so a revoked session fails at once).
import { createHash, randomBytes } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';

export type GlobalRole = 'user' | 'admin';

export interface AccessClaims {
  sub: string;
  sid: string;
  role: GlobalRole;
  iat: number;
  exp: number;
}

export interface AccessTokens {
  readonly ttlSeconds: number;
  sign(claims: { sub: string; sid: string; role: GlobalRole }): string;
  /** Throws on any invalid, expired, tampered or foreign token. */
  verify(token: string): AccessClaims;
}

export interface AccessTokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export function createAccessTokens({ secret, issuer, audience, ttlSeconds }: AccessTokenOptions): AccessTokens {
  const key = Buffer.from(secret, 'utf8');
  const signer = createSigner({ key, algorithm: 'HS256', iss: issuer, aud: audience, expiresIn: ttlSeconds * 1000 });
  const verifier = createVerifier({
    key,
    algorithms: ['HS256'],
    allowedIss: issuer,
    allowedAud: audience,
    requiredClaims: ['sub', 'sid', 'role', 'iat', 'exp'],
    cache: 10_000,
    cacheTTL: ttlSeconds * 1000,
  });
  return {
    ttlSeconds,
    sign: (claims) => signer(claims),
    verify(token) {
      const payload = verifier(token) as Record<string, unknown>;
      const { sub, sid, role, iat, exp } = payload;
      if (typeof sub !== 'string' || typeof sid !== 'string' || (role !== 'user' && role !== 'admin')) {
        throw new Error('malformed access token claims');
      }
      return { sub, sid, role, iat: Number(iat), exp: Number(exp) };
    },
  };
}

/** An opaque random secret (refresh token, e-mail link token) and the hash we store. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

export const hashOpaqueToken = (token: string): string => createHash('sha256').update(token).digest('base64url');
