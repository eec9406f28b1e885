import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config';
import { resolveSecrets } from './secrets';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({}, '/srv/gw');
    expect(config).toMatchObject({
      env: 'development',
      host: '0.0.0.0',
      gatewayPort: 8000,
      adminPort: 8001,
      database: { url: undefined, dataDir: '/srv/gw/data' },
      redisUrl: undefined,
      logLevel: 'info',
      maxBodyBytes: 10 * 1024 * 1024,
      corsOrigins: true,
      providers: { openai: undefined, anthropic: undefined, ollama: undefined, gemini: undefined },
      v8HeapGrowingPercent: 50,
    });
    expect(config.database.migrationsDir).toMatch(/prisma[\\/]migrations$/);
  });

  it('reads every variable of the configuration section', () => {
    const config = loadConfig({
      GATEWAY_PORT: '9000',
      ADMIN_PORT: '9001',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://u:p@db:5432/gw',
      DATA_DIR: '/var/lib/gw',
      REDIS_URL: 'redis://cache:6379',
      MASTER_KEY: 'sk-master-0123456789',
      SECRET_KEY: 'a'.repeat(32),
      JWT_SECRET: 'b'.repeat(32),
      ADMIN_EMAIL: 'Root@Example.com',
      ADMIN_PASSWORD: 'longenough',
      LOG_LEVEL: 'debug',
      REQUEST_TIMEOUT_MS: '1000',
      MAX_BODY_BYTES: '2048',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:3000',
      TRUST_PROXY: '1',
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1',
      ANTHROPIC_API_KEY: 'sk-ant',
      OLLAMA_HOST: 'http://127.0.0.1:11434',
      GEMINI_API_KEY: 'g-key',
      V8_HEAP_GROWING_PERCENT: '0',
    });
    expect(config).toMatchObject({
      v8HeapGrowingPercent: 0,
      gatewayPort: 9000,
      adminPort: 9001,
      host: '127.0.0.1',
      database: { url: 'postgresql://u:p@db:5432/gw', dataDir: '/var/lib/gw' },
      redisUrl: 'redis://cache:6379',
      masterKey: 'sk-master-0123456789',
      bootstrapAdmin: { email: 'root@example.com', password: 'longenough' },
      logLevel: 'debug',
      requestTimeoutMs: 1000,
      maxBodyBytes: 2048,
      corsOrigins: ['https://a.example.com', 'http://localhost:3000'],
      trustProxy: 1,
      providers: {
        openai: { apiKey: 'sk-openai', baseUrl: 'http://127.0.0.1:9999/v1' },
        anthropic: { apiKey: 'sk-ant', baseUrl: undefined },
        ollama: { baseUrl: 'http://127.0.0.1:11434' },
        gemini: { apiKey: 'g-key' },
      },
    });
  });

  it.each([
    [{ GATEWAY_PORT: 'abc' }, /^Invalid configuration: GATEWAY_PORT must be a number \(got "abc"\)$/],
    [{ ADMIN_PORT: '70000' }, /^Invalid configuration: ADMIN_PORT must be <=65535 \(got "70000"\)$/],
    [
      { DATABASE_URL: 'mysql://x' },
      /^Invalid configuration: DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/ \(got "\*\*\*"\)$/,
    ],
    [{ REDIS_URL: 'localhost:6379' }, /^Invalid configuration: REDIS_URL must be a URL/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL must be one of "fatal"\|"error"/],
    [{ MASTER_KEY: 'short' }, /^Invalid configuration: MASTER_KEY must be at least 16 characters \(got "\*\*\*"\)$/],
    [{ SECRET_KEY: 'short' }, /^Invalid configuration: SECRET_KEY must be at least 32 characters/],
    [{ ADMIN_EMAIL: 'not-an-email' }, /^Invalid configuration: ADMIN_EMAIL must be an email address/],
    [{ MAX_BODY_BYTES: '0' }, /^Invalid configuration: MAX_BODY_BYTES must be >=1/],
    [{ V8_HEAP_GROWING_PERCENT: '-5' }, /^Invalid configuration: V8_HEAP_GROWING_PERCENT must be >=0/],
    [{ NODE_ENV: 'production' }, /^Invalid configuration: SECRET_KEY is required when NODE_ENV=production/],
    [{ GATEWAY_PORT: '8100', ADMIN_PORT: '8100' }, /^Invalid configuration: ADMIN_PORT must differ from GATEWAY_PORT/],
    [
      { OPENAI_BASE_URL: 'http://user:pw-secret-9@127.0.0.1:9/v1' },
      /^Invalid configuration: OPENAI_BASE_URL must not contain credentials \(user:password@\).* \(got "http:\/\/\*\*\*@127\.0\.0\.1:9\/v1"\)$/,
    ],
    [
      { ANTHROPIC_BASE_URL: 'https://proxy.example.com/v1?x=1' },
      /^Invalid configuration: ANTHROPIC_BASE_URL must not have a query/,
    ],
    [
      { GEMINI_BASE_URL: 'https://proxy.example.com/v1#frag' },
      /^Invalid configuration: GEMINI_BASE_URL must not have a query/,
    ],
    [{ OLLAMA_HOST: 'http://u:p@127.0.0.1:11434' }, /^Invalid configuration: OLLAMA_HOST must not contain credentials/],
    [{ OPENAI_BASE_URL: 'http:///v1' }, /^Invalid configuration: OPENAI_BASE_URL must name a host after http/],
    [{ OPENAI_BASE_URL: 'http://127.0.0.1:9/v 1' }, /^Invalid configuration: OPENAI_BASE_URL must not contain spaces/],
    [{ OPENAI_BASE_URL: 'http://127.0.0.1:9/\u200bv1' }, /OPENAI_BASE_URL must not contain invisible characters/],
    [{ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1\u2066' }, /OPENAI_BASE_URL must not contain invisible characters/],
    [{ OLLAMA_HOST: 'http://127.0.0.1:0' }, /^Invalid configuration: OLLAMA_HOST must not name port 0/],
    // A key a header cannot carry would fail every call.
    [
      { OPENAI_API_KEY: 'sk-abc\ndef' },
      /^Invalid configuration: OPENAI_API_KEY must hold only printable .* \(got "\*\*\*"\)$/,
    ],
    [{ ANTHROPIC_API_KEY: 'sk-ant-é中' }, /^Invalid configuration: ANTHROPIC_API_KEY must hold only printable/],
    [{ GEMINI_API_KEY: 'AIza\u0000x' }, /^Invalid configuration: GEMINI_API_KEY must hold only printable/],
    [
      { CORS_ORIGINS: 'https://a.example.com/path' },
      /^Invalid configuration: CORS_ORIGINS has "https:\/\/a.example.com\/path"/,
    ],
  ])('rejects %o with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).not.toMatch(/pw-secret|u:p@/);
  });

  it.each([
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('reads TRUST_PROXY=%s as Express expects it', (raw, expected) => {
    expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it('treats empty variables as unset, as shells and compose files produce them', () => {
    const config = loadConfig({ DATABASE_URL: '', REDIS_URL: '  ', OPENAI_API_KEY: '' });
    expect(config.database.url).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.providers.openai).toBeUndefined();
  });
});

describe('resolveSecrets', () => {
  it('generates SECRET_KEY into the data dir once and derives JWT_SECRET from it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-secrets-'));
    const first = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
    const again = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
    expect(first.secretKey).toHaveLength(43);
    expect(again.secretKey).toBe(first.secretKey);
    expect(first.jwtSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(first.jwtSecret).not.toContain(first.secretKey!);
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8').trim()).toBe(first.secretKey);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('keeps secrets the operator set', () => {
    const config = resolveSecrets(loadConfig({ SECRET_KEY: 's'.repeat(40), JWT_SECRET: 'j'.repeat(40) }));
    expect(config.secretKey).toBe('s'.repeat(40));
    expect(config.jwtSecret).toBe('j'.repeat(40));
  });
});
