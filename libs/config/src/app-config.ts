import { join, resolve } from 'node:path';
import { projectRoot } from './project';
import { envSchema, type ParsedEnv } from './config.schema';

/** Providers declared through the environment, as other gateways allow. */
export interface EnvProviders {
  openai?: { apiKey: string; baseUrl?: string };
  anthropic?: { apiKey: string; baseUrl?: string };
  ollama?: { baseUrl: string };
  gemini?: { apiKey: string; baseUrl?: string };
  /** The built-in deterministic `mock` provider, for trying the platform without keys. */
  mock: boolean;
}

/** The typed configuration every part of the platform reads. */
export interface AppConfig {
  env: ParsedEnv['NODE_ENV'];
  host: string;
  gatewayPort: number;
  adminPort: number;
  database: {
    /** PostgreSQL when set; the embedded PGlite in `dataDir` otherwise. */
    url?: string;
    dataDir: string;
    migrationsDir: string;
    connectTimeoutMs: number;
    /** How long a PostgreSQL query may go unanswered before it fails (a 503 for the request waiting on it). */
    queryTimeoutMs: number;
  };
  redisUrl?: string;
  /** Namespace of every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: string;
  /** Longest wait for a Redis command; beyond it the command fails and its caller falls back. */
  redisCommandTimeoutMs: number;
  /** How long a verified API key is trusted without asking the database again. */
  keyCacheTtlMs: number;
  /** How long a budget's spend counter is used before it is reloaded from the usage log (bounds drift). */
  budgetSpendReloadMs: number;
  masterKey?: string;
  /** Resolved at boot by `resolveSecrets` when unset outside production. */
  secretKey?: string;
  jwtSecret?: string;
  jwtExpiresInSeconds: number;
  bootstrapAdmin: { email?: string; password?: string };
  logLevel: ParsedEnv['LOG_LEVEL'];
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxBodyBytes: number;
  /** `true` allows any origin. */
  corsOrigins: string[] | true;
  /**
   * Express's `trust proxy`: whom to believe in `X-Forwarded-For` for the client
   * address (login throttling, audit). `false` (direct), `true`, a hop count, or
   * comma-separated addresses/subnets of the proxies.
   */
  trustProxy: boolean | number | string;
  providers: EnvProviders;
  /** Retries of one upstream target before the next (backoff with jitter, `retry-after` honoured). */
  upstreamMaxRetries: number;
  /** Consecutive failures that open a provider's circuit, and how long it stays open. */
  circuit: { failureThreshold: number; cooldownMs: number };
  otlpEndpoint?: string;
  /**
   * How far V8 lets the old generation grow past its live size before the next
   * full collection, in percent (0: V8's own adaptive factor, up to 300 %).
   */
  v8HeapGrowingPercent: number;
}

/** Thrown for an invalid environment; its message is the one line the boot prints. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates an environment (normally `process.env`) into an {@link AppConfig}. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0] ?? 'environment');
    const got = env[variable];
    const shown = got === undefined ? '' : ` (got ${JSON.stringify(redact(variable, got))})`;
    throw new ConfigError(`Invalid configuration: ${variable} ${describe(issue.message)}${shown}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.SECRET_KEY) {
    throw new ConfigError(
      'Invalid configuration: SECRET_KEY is required when NODE_ENV=production (32+ characters; it encrypts provider credentials)',
    );
  }
  if (e.GATEWAY_PORT === e.ADMIN_PORT) {
    throw new ConfigError(`Invalid configuration: ADMIN_PORT must differ from GATEWAY_PORT (both ${e.GATEWAY_PORT})`);
  }
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    gatewayPort: e.GATEWAY_PORT,
    adminPort: e.ADMIN_PORT,
    database: {
      url: e.DATABASE_URL,
      dataDir: resolve(cwd, e.DATA_DIR),
      migrationsDir: e.MIGRATIONS_DIR ? resolve(cwd, e.MIGRATIONS_DIR) : join(projectRoot(), 'prisma', 'migrations'),
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
    },
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    keyCacheTtlMs: e.KEY_CACHE_TTL_MS,
    budgetSpendReloadMs: e.BUDGET_SPEND_RELOAD_MS,
    masterKey: e.MASTER_KEY,
    secretKey: e.SECRET_KEY,
    jwtSecret: e.JWT_SECRET,
    jwtExpiresInSeconds: e.JWT_EXPIRES_IN_SECONDS,
    bootstrapAdmin: { email: e.ADMIN_EMAIL?.toLowerCase(), password: e.ADMIN_PASSWORD },
    logLevel: e.LOG_LEVEL,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    corsOrigins: parseOrigins(e.CORS_ORIGINS),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    providers: envProviders(e),
    upstreamMaxRetries: e.UPSTREAM_MAX_RETRIES,
    circuit: { failureThreshold: e.CIRCUIT_FAILURE_THRESHOLD, cooldownMs: e.CIRCUIT_COOLDOWN_MS },
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    v8HeapGrowingPercent: e.V8_HEAP_GROWING_PERCENT,
  };
}

function envProviders(e: ParsedEnv): EnvProviders {
  return {
    openai: e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL } : undefined,
    anthropic: e.ANTHROPIC_API_KEY ? { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL } : undefined,
    ollama: e.OLLAMA_HOST ? { baseUrl: e.OLLAMA_HOST } : undefined,
    gemini: e.GEMINI_API_KEY ? { apiKey: e.GEMINI_API_KEY, baseUrl: e.GEMINI_BASE_URL } : undefined,
    // On by default outside production, so a fresh `npm start` can answer without any provider key.
    mock: e.MOCK_PROVIDER ? e.MOCK_PROVIDER === 'true' : e.NODE_ENV !== 'production',
  };
}

function parseOrigins(raw: string): string[] | true {
  if (raw === '*' || raw === '') return true;
  const origins = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(
        `Invalid configuration: CORS_ORIGINS has ${JSON.stringify(origin)}, which is not an origin such as https://app.example.com`,
      );
    }
    if (url.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(
        `Invalid configuration: CORS_ORIGINS has ${JSON.stringify(origin)}; give origins only (scheme://host[:port])`,
      );
    }
  }
  return origins;
}

function parseTrustProxy(raw: string): boolean | number | string {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
}

const SECRET_VARIABLES = /KEY|SECRET|PASSWORD|DATABASE_URL|REDIS_URL/;

function redact(variable: string, value: string): string {
  // A URL's user:password@ is a secret whatever the variable.
  return SECRET_VARIABLES.test(variable) ? '***' : value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

function describe(message: string): string {
  if (message.startsWith('Invalid option')) return message.replace('Invalid option: expected one of', 'must be one of');
  if (message.startsWith('Invalid input: expected number')) return 'must be a number';
  if (message.startsWith('Too small')) return message.replace('Too small: expected number to be', 'must be');
  if (message.startsWith('Too big')) return message.replace('Too big: expected number to be', 'must be');
  return message.charAt(0).toLowerCase() + message.slice(1);
}
