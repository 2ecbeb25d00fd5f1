// The whole environment in one zod schema: typed, frozen, and a bad value stops start-up
// with a message naming the variable.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  PUBLIC_URL: optionalText.pipe(z.url().optional()),
  APP_URL: optionalText.pipe(z.url().optional()),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_MAX: positiveInt.max(500).default(10),
  JWT_SECRET: optionalText.pipe(
    z
      .string()
      .refine((s) => Buffer.byteLength(s) >= 32, 'must be at least 32 bytes')
      .optional(),
  ),
  JWT_ISSUER: z.string().min(1).default('tandem'),
  JWT_AUDIENCE: z.string().min(1).default('tandem-api'),
  ACCESS_TOKEN_TTL: positiveInt.max(3600).default(900),
  REFRESH_TOKEN_TTL: positiveInt.default(30 * 24 * 3600),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string => {
      if (v === 'true' || v === 'false') return v === 'true';
      return /^\d+$/.test(v) ? Number(v) : v;
    }),
  BODY_LIMIT: positiveInt.max(50 * 1024 * 1024).default(1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_MAX: positiveInt.default(600),
  RATE_LIMIT_WINDOW: positiveInt.default(60),
  AUTH_RATE_LIMIT_MAX: positiveInt.default(10),
  SHUTDOWN_TIMEOUT: positiveInt.default(10_000),
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SMTP_URL: optionalText.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  MAIL_FROM: z.string().min(3).default('Tandem <no-reply@tandem.localhost>'),
  DOCS_ENABLED: bool.default(true),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly appUrl: string;
  readonly dataDir: string;
  /** Absent: Tandem starts its own embedded PostgreSQL under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly databasePoolMax: number;
  readonly jwt: { readonly secret: string; readonly issuer: string; readonly audience: string };
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly corsOrigins: readonly string[];
  readonly trustProxy: boolean | number | string;
  readonly bodyLimit: number;
  readonly logLevel: string;
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number; readonly authMax: number };
  readonly shutdownTimeout: number;
  readonly metrics: { readonly token: string | undefined; readonly port: number | undefined };
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string };
  readonly docsEnabled: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Secrets that development generates once and keeps under DATA_DIR (never used in production). */
export interface LocalSecrets {
  jwtSecret: string;
  postgresPassword: string;
}

export function readOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const parsed = z
      .object({ jwtSecret: z.string().min(32), postgresPassword: z.string().min(16) })
      .safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets: LocalSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    postgresPassword: randomBytes(24).toString('base64url'),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/** Parses the environment (after an optional `.env` file was loaded by the caller). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.JWT_SECRET) {
    throw new ConfigError(
      'Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production (at least 32 random bytes, e.g. `openssl rand -base64 48`)',
    );
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const jwtSecret = e.JWT_SECRET ?? readOrCreateLocalSecrets(dataDir).jwtSecret;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const config: Config = {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicUrl,
    appUrl: (e.APP_URL ?? publicUrl).replace(/\/+$/, ''),
    dataDir,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    jwt: { secret: jwtSecret, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    bodyLimit: e.BODY_LIMIT,
    logLevel: e.LOG_LEVEL,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowSeconds: e.RATE_LIMIT_WINDOW, authMax: e.AUTH_RATE_LIMIT_MAX },
    shutdownTimeout: e.SHUTDOWN_TIMEOUT,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    docsEnabled: e.DOCS_ENABLED,
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
