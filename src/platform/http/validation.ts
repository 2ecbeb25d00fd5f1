// Turns zod issues into the sentences api.md promises ("Validation failed: email must be a
// valid email address"), for HTTP requests, socket events and job payloads alike.
import { z } from 'zod';
import type { ErrorDetail } from '../errors.js';

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function sizeWord(origin: string | undefined, n: number | bigint): string {
  if (origin === 'string') return `${n} character${n === 1 ? '' : 's'}`;
  if (origin === 'array' || origin === 'set') return `${n} item${n === 1 ? '' : 's'}`;
  return String(n);
}

const formats: Record<string, string> = {
  email: 'must be a valid email address',
  uuid: 'must be a valid UUID',
  url: 'must be a valid URL',
  datetime: 'must be an ISO 8601 date-time',
  date: 'must be a date (YYYY-MM-DD)',
  regex: 'has an invalid format',
};

// Installed once for the process: every schema gets messages a person can act on unless it
// says its own.
z.config({
  customError(iss) {
    switch (iss.code) {
      case 'invalid_type':
        return iss.input === undefined ? 'is required' : `must be ${article(String(iss.expected))}`;
      case 'too_small':
        return iss.origin === 'string' && iss.minimum === 1 ? 'must not be empty' : `must be at least ${sizeWord(iss.origin, iss.minimum)}`;
      case 'too_big':
        return `must be at most ${sizeWord(iss.origin, iss.maximum)}`;
      case 'invalid_format':
        return formats[iss.format] ?? `must be a valid ${iss.format}`;
      case 'invalid_value':
        return `must be one of: ${iss.values.map(String).join(', ')}`;
      case 'unrecognized_keys':
        return `${iss.keys.length === 1 ? 'is not an allowed field' : 'are not allowed fields'}`;
      default:
        return undefined;
    }
  },
});

interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  keys?: readonly string[];
}

/** One detail per offending field; unknown keys are named one by one. */
export function issuesToDetails(issues: readonly IssueLike[], root = ''): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys) details.push({ path: base ? `${base}.${key}` : key, message: 'is not an allowed field' });
    } else {
      details.push({ path: base || root, message: issue.message });
    }
  }
  return details;
}
