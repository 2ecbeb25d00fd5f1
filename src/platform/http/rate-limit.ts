// Rate limiting behind one small interface: rate-limiter-flexible's in-memory limiter now,
// its Redis limiter (same library, same semantics) when REDIS_URL arrives.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimited } from '../errors.js';

export interface BucketPolicy {
  /** Requests (points) allowed per window. */
  points: number;
  windowSeconds: number;
}

export interface RateLimitState {
  bucket: string;
  limit: number;
  remaining: number;
  resetSeconds: number;
  windowSeconds: number;
}

export interface RateLimiter {
  /** Takes `points` from the key's bucket; throws RATE_LIMITED (with headers) when empty. */
  consume(bucket: string, key: string, points?: number): Promise<RateLimitState>;
  /** Throws RATE_LIMITED if the key's bucket is already empty, without taking anything. */
  check(bucket: string, key: string): Promise<void>;
  reset(bucket: string, key: string): Promise<void>;
}

/** IETF draft-ietf-httpapi-ratelimit-headers (structured fields). */
export function rateLimitHeaders(s: RateLimitState): Record<string, string> {
  return {
    'ratelimit-policy': `"${s.bucket}";q=${s.limit};w=${s.windowSeconds}`,
    ratelimit: `"${s.bucket}";r=${s.remaining};t=${s.resetSeconds}`,
  };
}

export function createMemoryRateLimiter(policies: Record<string, BucketPolicy>): RateLimiter {
  const limiters = new Map(
    Object.entries(policies).map(([name, p]) => [
      name,
      { policy: p, limiter: new RateLimiterMemory({ keyPrefix: name, points: p.points, duration: p.windowSeconds }) },
    ]),
  );
  const get = (bucket: string) => {
    const l = limiters.get(bucket);
    if (!l) throw new Error(`unknown rate-limit bucket ${bucket}`);
    return l;
  };
  const state = (bucket: string, p: BucketPolicy, res: RateLimiterRes): RateLimitState => ({
    bucket,
    limit: p.points,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    windowSeconds: p.windowSeconds,
  });
  const refuse = (s: RateLimitState) => {
    const err = rateLimited(s.resetSeconds);
    Object.assign(err.headers ?? {}, rateLimitHeaders(s));
    return err;
  };
  return {
    async consume(bucket, key, points = 1) {
      const { policy, limiter } = get(bucket);
      try {
        return state(bucket, policy, await limiter.consume(key, points));
      } catch (res) {
        if (res instanceof RateLimiterRes) throw refuse(state(bucket, policy, res));
        throw res;
      }
    },
    async check(bucket, key) {
      const { policy, limiter } = get(bucket);
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= policy.points) throw refuse(state(bucket, policy, res));
    },
    async reset(bucket, key) {
      await get(bucket).limiter.delete(key);
    },
  };
}
