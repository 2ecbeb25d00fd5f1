// argon2id hashing with OWASP's parameters (19 MiB, 2 passes, 1 lane) and the password policy.
import { readFileSync } from 'node:fs';
import argon2 from 'argon2';

export const PASSWORD_MIN_LENGTH = 10;
/** argon2 hashes any length, but a megabyte password costs real CPU: a cap stops hash-DoS. */
export const PASSWORD_MAX_LENGTH = 256;

const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const common = new Set(
  readFileSync(new URL('../../../src/platform/auth/common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l && !l.startsWith('#')),
);

/** Returns a sentence saying why the password is refused, or undefined when it is acceptable. */
export function passwordWeakness(password: string, personal: string[] = []): string | undefined {
  const lower = password.toLowerCase();
  if (common.has(lower)) return 'is too common; choose a less predictable one';
  if (/^(.)\1+$/.test(password)) return 'must not repeat a single character';
  if (personal.some((p) => p && p.length >= 4 && lower === p.toLowerCase())) {
    return 'must not be your name or email address';
  }
  return undefined;
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, HASH_OPTIONS);

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A hash of a random string: verified against when the account does not exist, so a
 * failed login costs the same time either way and reveals nothing. */
let dummyHash: Promise<string> | undefined;
export const dummyPasswordHash = (): Promise<string> => {
  dummyHash ??= hashPassword(`no-such-account-${Math.random()}`);
  return dummyHash;
};
