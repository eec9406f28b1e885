import { z } from 'zod';
import { hasControlCharacter } from '@app/contracts';

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
/** A provider's base URL (`*_BASE_URL`, `OLLAMA_HOST`): see {@link baseUrlProblem}. */
const optionalBaseUrl = optionalString.superRefine((value, ctx) => {
  const problem = value === undefined ? undefined : baseUrlProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/**
 * A provider's API key (`*_API_KEY`): it travels in a header, whose value can hold only
 * visible ASCII, Latin-1, spaces and tabs; another character would fail every call.
 */
const optionalApiKey = optionalString.refine(
  (value) => value === undefined || /^[\t\x20-\x7e\x80-\xff]*$/.test(value),
  'must hold only printable characters (no control characters or line breaks), as it is sent in a header',
);
const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

/** Characters that show as nothing: soft hyphen, joiners, bidi marks, embeddings and isolates, the BOM. */
// The combining grapheme joiner (U+034F) stands apart: in a class it would combine with its neighbour.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]|\u034f/;

/**
 * Why `value` cannot be a provider's base URL, or `undefined` when it can: an
 * http(s) URL without credentials (they belong in the API key or a header, and would
 * show wherever the URL does), without a query or fragment (paths are appended to
 * it), without control characters. Shared by the environment and the admin API.
 */
export function baseUrlProblem(value: string): string | undefined {
  if (hasControlCharacter(value)) return 'must not contain control characters';
  // Spaces would be sent percent-encoded, and invisible characters (zero-width, bidi) hide what the URL names.
  if (/\s/.test(value.trim())) return 'must not contain spaces';
  if (INVISIBLE.test(value)) return 'must not contain invisible characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http:// or https:// URL';
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return 'must be an http:// or https:// URL';
  }
  // `http:///v1` parses, as host `v1`: a host must follow the `//` as written.
  if (!/^https?:\/\/[^/\\]/i.test(value.trimStart())) return 'must name a host after http:// or https://';
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (user:password@); give the key as the API key or in a header';
  }
  if (/[?#]/.test(value)) return 'must not have a query or a fragment (?... or #...)';
  if (url.port === '0') return 'must not name port 0';
  return undefined;
}

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
  OPENAI_API_KEY: optionalApiKey,
  OPENAI_BASE_URL: optionalBaseUrl,
  ANTHROPIC_API_KEY: optionalApiKey,
  ANTHROPIC_BASE_URL: optionalBaseUrl,
  OLLAMA_HOST: optionalBaseUrl,
  GEMINI_API_KEY: optionalApiKey,
  MOCK_PROVIDER: z.enum(['true', 'false']).optional(),
  GEMINI_BASE_URL: optionalBaseUrl,
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http:', 'https:']),
  V8_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
});

export type RawEnv = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
