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

/**
 * Verified tokens by their exact text, until they expire. fast-jwt has such a cache, but it keys
 * it on a SHA-256 of every token it is given (a cache hit cost four times a Map lookup) and warns
 * at every start when given another key. The whole token is a safe key: only a token that
 * verified is stored, and a string equal to it carries the same signature over the same claims.
 */
function verifiedCache(max: number) {
  const entries = new Map<string, AccessClaims>();
  return {
    get(token: string): AccessClaims | undefined {
      const claims = entries.get(token);
      if (claims === undefined) return undefined;
      // Valid through the second `exp` names, as fast-jwt counts it.
      if (claims.exp * 1000 >= Date.now()) return claims;
      entries.delete(token);
      return undefined;
    },
    set(token: string, claims: AccessClaims): void {
      // Oldest first: Maps iterate in insertion order.
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(token, claims);
    },
  };
}

function toClaims(payload: Record<string, unknown>): AccessClaims {
  const { sub, sid, role, iat, exp } = payload;
  if (typeof sub !== 'string' || typeof sid !== 'string' || (role !== 'user' && role !== 'admin')) {
    throw new Error('malformed access token claims');
  }
  // Shared by every request that presents the token, so nobody may change it.
  return Object.freeze({ sub, sid, role, iat: Number(iat), exp: Number(exp) });
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
  });
  const verified = verifiedCache(10_000);
  return {
    ttlSeconds,
    sign: (claims) => signer(claims),
    verify(token) {
      const cached = verified.get(token);
      if (cached) return cached;
      const claims = toClaims(verifier(token) as Record<string, unknown>);
      verified.set(token, claims);
      return claims;
    },
  };
}

/** An opaque random secret (refresh token, e-mail link token) and the hash we store. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

export const hashOpaqueToken = (token: string): string => createHash('sha256').update(token).digest('base64url');
