import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const optionalUrl = (protocols: readonly string[]) =>
  optionalString.refine(
    (value) => value === undefined || isUrlWith(value, protocols),
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );
const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

function isUrlWith(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * The environment the platform reads, and nothing else. Every variable of
 * DESIGN.md's configuration section is here; `loadConfig` is the only reader
 * of `process.env`.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  GATEWAY_PORT: port(8000),
  ADMIN_PORT: port(8001),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  MIGRATIONS_DIR: optionalString,
  DB_CONNECT_TIMEOUT_MS: positiveInt(30_000),
  DB_QUERY_TIMEOUT_MS: positiveInt(30_000, 2 ** 31 - 1),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'may hold only letters, digits and : _ . - (64 at most)')
    .default(''),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt(500),
  KEY_CACHE_TTL_MS: positiveInt(30_000),
  BUDGET_SPEND_RELOAD_MS: positiveInt(10 * 60_000),
  MASTER_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  SECRET_KEY: optionalString.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  JWT_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  JWT_EXPIRES_IN_SECONDS: positiveInt(12 * 3600),
  ADMIN_EMAIL: optionalString.refine(
    (v) => v === undefined || z.email().safeParse(v).success,
    'must be an email address',
  ),
  ADMIN_PASSWORD: optionalString.refine((v) => v === undefined || v.length >= 8, 'must be at least 8 characters'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REQUEST_TIMEOUT_MS: positiveInt(600_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  UPSTREAM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  CIRCUIT_FAILURE_THRESHOLD: positiveInt(5, 1000),
  CIRCUIT_COOLDOWN_MS: positiveInt(30_000),
  CORS_ORIGINS: z.string().trim().default('*'),
  TRUST_PROXY: z.string().trim().default('false'),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl(['http:', 'https:']),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalUrl(['http:', 'https:']),
  OLLAMA_HOST: optionalUrl(['http:', 'https:']),
  GEMINI_API_KEY: optionalString,
  MOCK_PROVIDER: z.enum(['true', 'false']).optional(),
  GEMINI_BASE_URL: optionalUrl(['http:', 'https:']),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http:', 'https:']),
  V8_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
});

export type RawEnv = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
