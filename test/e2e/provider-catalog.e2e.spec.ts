import { join } from 'node:path';
import OpenAI from 'openai';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCipher } from '@app/config';
import { DATABASE, type Database, PgliteDriver } from '@app/db';
import {
  createTestDatabase,
  FakeAnthropicServer,
  FakeOllamaServer,
  FakeOpenAIServer,
  type TestDatabase,
} from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, createKey, createTeam, type Json, unique } from '../support/tenancy';

const OPENAI_KEY = 'sk-env-openai-0123456789';
const STORED_KEY = 'sk-stored-secret-abcdefghijklmnop';

/** Polls `fn` until it returns a truthy value (background discovery, health checks). */
async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs SQL straight on a test database, once the platform using it is closed (PGlite has one user). */
async function querySql<T extends object>(database: TestDatabase, sql: string, params: unknown[]): Promise<T[]> {
  if (database.env.DATABASE_URL) {
    const client = new Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const driver = await PgliteDriver.open(join(database.env.DATA_DIR, 'pglite'));
  try {
    return await driver.query<T>(sql, params);
  } finally {
    await driver.close();
  }
}

/** The stored (encrypted) key of a provider, read straight from the database once the platform is closed. */
async function readProviderKey(database: TestDatabase, name: string): Promise<string> {
  const rows = await querySql<{ api_key_encrypted: string }>(
    database,
    'SELECT api_key_encrypted FROM providers WHERE name = $1',
    [name],
  );
  return rows[0].api_key_encrypted;
}

describe('provider catalog: admin API, environment providers, /v1/models and /v1/providers', () => {
  const openai = new FakeOpenAIServer({ apiKey: OPENAI_KEY });
  const anthropic = new FakeAnthropicServer();
  const ollama = new FakeOllamaServer();
  const upstream = new FakeOpenAIServer({
    apiKey: STORED_KEY,
    models: ['vendor/model-a', 'model-b'],
    ownedBy: 'vendor',
  });
  /** Never answers. */
  const hanging = new FakeOpenAIServer();
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;
  const gateway = (path: string, options: { method?: string; body?: unknown; token?: string } = {}) =>
    call(`${platform.gatewayUrl}${path}`, { token: TEST_MASTER_KEY, ...options });

  beforeAll(async () => {
    await Promise.all([openai.start(), anthropic.start(), ollama.start(), upstream.start(), hanging.start()]);
    hanging.enqueue({ hang: true, times: 1_000 });
    platform = await startPlatform({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: openai.baseURL,
        ANTHROPIC_API_KEY: 'sk-ant-env',
        ANTHROPIC_BASE_URL: anthropic.baseURL,
        OLLAMA_HOST: ollama.origin,
      },
    });
    api = adminApi(platform);
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([openai.close(), anthropic.close(), ollama.close(), upstream.close(), hanging.close()]);
  });

  const createProvider = async (fields: Record<string, unknown> = {}) => {
    const res = await api.post('/api/providers', {
      name: unique('vendor').toLowerCase(),
      kind: 'openai-compatible',
      baseUrl: upstream.baseURL,
      apiKey: STORED_KEY,
      ...fields,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  it('lists environment providers as read-only, named after their kind, without keys', async () => {
    const res = await api.get('/api/providers');
    expect(res.status).toBe(200);
    const env = (res.body as Json[]).filter((p) => p.source === 'environment');
    expect(env.map((p) => p.name).sort()).toEqual(['anthropic', 'mock', 'ollama', 'openai']);
    expect(env.find((p) => p.name === 'openai')).toMatchObject({
      id: 'env:openai',
      kind: 'openai',
      hasApiKey: true,
      baseUrl: openai.baseURL,
      overridden: false,
    });
    expect(JSON.stringify(res.body)).not.toContain(OPENAI_KEY);
    expect((await api.get('/api/providers/env:ollama')).body).toMatchObject({ kind: 'ollama', hasApiKey: false });
    for (const method of ['patch', 'delete'] as const) {
      const denied =
        method === 'patch'
          ? await api.patch('/api/providers/env:openai', { enabled: false })
          : await api.delete('/api/providers/env:openai');
      expect(denied.status).toBe(409);
      expect(denied.body.error.message).toMatch(/environment/);
    }
    expect((await api.get('/api/providers/env:gemini')).status).toBe(404);
  });

  it('creates, reads, updates and deletes a provider; the key is write-only and encrypted at rest', async () => {
    const created = await createProvider({
      models: ['pinned', 'pinned'],
      timeoutMs: 20_000,
      options: { headers: { 'x-proxy-auth': 'hidden-header-value' } },
    });
    expect(created).toMatchObject({
      kind: 'openai-compatible',
      source: 'database',
      hasApiKey: true,
      enabled: true,
      models: ['pinned'],
      timeoutMs: 20_000,
      options: { headers: { 'x-proxy-auth': '[redacted]' } },
    });
    expect(created).not.toHaveProperty('apiKey');
    const id = created.id as string;
    const read = await api.get(`/api/providers/${id}`);
    const list = await api.get('/api/providers');
    for (const res of [read, list]) {
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain(STORED_KEY);
      expect(JSON.stringify(res.body)).not.toContain('hidden-header-value');
    }
    expect((list.body as Json[]).map((p) => p.id)).toContain(id);

    const renamed = unique('renamed').toLowerCase();
    const updated = await api.patch(`/api/providers/${id}`, { name: renamed, apiKey: null, enabled: false });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: renamed, hasApiKey: false, enabled: false, models: ['pinned'] });
    expect((await api.patch(`/api/providers/${id}`, { apiKey: 'sk-new-key-value' })).body.hasApiKey).toBe(true);

    expect((await api.delete(`/api/providers/${id}`)).status).toBe(204);
    expect((await api.get(`/api/providers/${id}`)).status).toBe(404);
    expect((await api.delete(`/api/providers/${id}`)).status).toBe(404);
  });

  it('records provider and route changes in the audit log without secrets', async () => {
    const provider = await createProvider({ options: { headers: { 'x-proxy-auth': 'hidden-header-value' } } });
    await api.patch(`/api/providers/${provider.id}`, { apiKey: 'sk-rotated-key-123456', enabled: false });
    const route = await api.post('/api/routes', {
      alias: unique('audited'),
      strategy: 'fallback',
      targets: [{ provider: provider.name, model: 'm' }],
    });
    await api.delete(`/api/routes/${route.body.id}`);
    await api.delete(`/api/providers/${provider.id}`);
    const providerLog = await api.get(`/api/audit?targetId=${provider.id}`);
    expect(providerLog.status).toBe(200);
    expect(providerLog.body.data.map((e: Json) => e.action)).toEqual([
      'provider.delete',
      'provider.update',
      'provider.create',
    ]);
    expect(providerLog.body.data[1].changes).toMatchObject({ enabled: { from: true, to: false }, apiKey: 'replaced' });
    expect(providerLog.body.data[0]).toMatchObject({ actorType: 'master_key', targetType: 'provider' });
    const routeLog = await api.get(`/api/audit?targetId=${route.body.id}`);
    expect(routeLog.body.data.map((e: Json) => e.action)).toEqual(['route.delete', 'route.create']);
    const text = JSON.stringify([providerLog.body, routeLog.body]);
    for (const secret of [STORED_KEY, 'sk-rotated-key-123456', 'hidden-header-value', 'v1:'])
      expect(text).not.toContain(secret);
  });

  it('answers bad provider input with 400/404/409 in the envelope, never echoing the key', async () => {
    const base = {
      name: unique('bad').toLowerCase(),
      kind: 'openai-compatible',
      baseUrl: upstream.baseURL,
      apiKey: STORED_KEY,
    };
    const cases: Array<[Record<string, unknown>, string | null]> = [
      [{ ...base, name: undefined }, 'name'],
      [{ ...base, name: 'has/slash' }, 'name'],
      [{ ...base, name: 'Upper Case' }, 'name'],
      [{ ...base, kind: 'bedrock' }, 'kind'],
      [{ ...base, baseUrl: 'ftp://example.com' }, null],
      [{ ...base, baseUrl: 'not a url' }, null],
      [{ ...base, baseUrl: 'http:///v1' }, null],
      [{ ...base, baseUrl: undefined }, null],
      [{ ...base, kind: 'azure-openai', baseUrl: undefined }, null],
      // The vendor's own API refuses every call without a key.
      [{ ...base, kind: 'openai', baseUrl: undefined, apiKey: undefined }, 'apiKey'],
      [{ ...base, kind: 'anthropic', baseUrl: undefined, apiKey: undefined }, 'apiKey'],
      [{ ...base, apiKey: 42 }, 'apiKey'],
      [{ ...base, timeoutMs: -1 }, 'timeoutMs'],
      [{ ...base, models: [''] }, 'models[0]'],
      [{ ...base, options: { unknown: true } }, 'options'],
      [{ ...base, options: { headers: { 'bad header': 'x' } } }, 'options.headers.bad header'],
      [{ ...base, extra: 'field' }, null],
      // Credentials belong in apiKey / options.headers; paths are appended to a base URL.
      [{ ...base, baseUrl: 'http://user:url-pass-77@127.0.0.1:9/v1' }, 'baseUrl'],
      [{ ...base, baseUrl: 'http://127.0.0.1:9/v1?x=1' }, 'baseUrl'],
      [{ ...base, baseUrl: 'http://127.0.0.1:9/v1#frag' }, 'baseUrl'],
      [{ ...base, baseUrl: 'http://127.0.0.1:9/v 1' }, 'baseUrl'],
      [{ ...base, baseUrl: 'http://127.0.0.1:9/\u200bv1' }, 'baseUrl'],
      [{ ...base, baseUrl: 'http://127.0.0.1:0/v1' }, 'baseUrl'],
      // Header bytes undici refuses would fail every call later.
      [{ ...base, apiKey: 'sk-abc\r\nx-injected: 1' }, 'apiKey'],
      [{ ...base, apiKey: 'sk-abc\u0000' }, 'apiKey'],
      [{ ...base, options: { headers: { 'x-api-key': 'v\r\nx-injected: 1' } } }, 'options.headers.x-api-key'],
      [{ ...base, options: { headers: { 'x-api-key': 'v\u20ac' } } }, 'options.headers.x-api-key'],
      [{ ...base, options: { headers: { 'x-a\r\nb': 'v' } } }, 'options.headers.x-a\r\nb'],
      // Framing headers the HTTP client refuses (or that break every other body) would fail every call.
      [{ ...base, options: { headers: { 'Content-Length': '5' } } }, 'options.headers.Content-Length'],
      [{ ...base, options: { headers: { 'transfer-encoding': 'chunked' } } }, 'options.headers.transfer-encoding'],
      [{ ...base, options: { headers: { expect: '100-continue' } } }, 'options.headers.expect'],
      [{ ...base, options: { headers: { Connection: 'upgrade' } } }, 'options.headers.Connection'],
      [{ ...base, options: { headers: { te: 'gzip' } } }, 'options.headers.te'],
      // A head servers refuse (431) would fail every call: at most 64 headers, 8 KiB together.
      [
        { ...base, options: { headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-h${i}`, 'v'])) } },
        'options.headers',
      ],
      [
        {
          ...base,
          options: { headers: Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`x-h${i}`, 'v'.repeat(3000)])) },
        },
        'options.headers',
      ],
      [
        {
          ...base,
          kind: 'azure-openai',
          options: { deployments: Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`m${i}`, `d${i}`])) },
        },
        'options.deployments',
      ],
      [{ ...base, kind: 'anthropic', options: { apiVersion: '2023-06-01\u20ac' } }, 'options.apiVersion'],
      // Per-model capability flags: a map of model names or globs to the provider-wide flags.
      [{ ...base, options: { models: ['tiny-*'] } }, 'options.models'],
      [{ ...base, options: { models: { 'tiny-*': false } } }, 'options.models.tiny-*'],
      [{ ...base, options: { models: { 'tiny-*': { nativeTools: 'no' } } } }, 'options.models.tiny-*.nativeTools'],
      [{ ...base, options: { models: { 'tiny-*': { tools: false } } } }, 'options.models.tiny-*'],
      [{ ...base, options: { models: { '': { nativeTools: false } } } }, 'options.models'],
      [{ ...base, options: { models: { 'a\u0000b': { nativeTools: false } } } }, 'options.models'],
      [
        { ...base, options: { models: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`m${i}`, {}])) } },
        'options.models',
      ],
    ];
    for (const [body, param] of cases) {
      const res = await api.post('/api/providers', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error' });
      if (param) expect(res.body.error.param, JSON.stringify(res.body)).toBe(param);
      expect(JSON.stringify(res.body)).not.toContain(STORED_KEY);
      expect(JSON.stringify(res.body)).not.toContain('url-pass-77');
    }
    const framing = await api.post('/api/providers', { ...base, options: { headers: { Connection: 'close' } } });
    expect(framing.body.error.message).toMatch(/options\.headers\.Connection: is set by the HTTP client/);
    const malformed = await call(`${platform.adminUrl}/api/providers`, {
      method: 'POST',
      token: TEST_MASTER_KEY,
      body: '{"name":',
    });
    expect(malformed.status).toBe(400);

    const existing = await createProvider();
    const duplicate = await api.post('/api/providers', { ...base, name: existing.name });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.param).toBe('name');
    expect(JSON.stringify(duplicate.body)).not.toContain(STORED_KEY);
    const other = await createProvider();
    expect((await api.patch(`/api/providers/${other.id}`, { name: existing.name })).status).toBe(409);
    expect((await api.patch(`/api/providers/${other.id}`, { kind: 'azure-openai', baseUrl: null })).status).toBe(400);
    expect((await api.patch(`/api/providers/${other.id}`, { bogus: 1 })).status).toBe(400);
    for (const patch of [{ baseUrl: 'http://u:p@127.0.0.1:9/v1' }, { apiKey: 'k\nx' }]) {
      const res = await api.patch(`/api/providers/${other.id}`, patch);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(res.body.error.param).toBe(Object.keys(patch)[0]);
    }

    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', 'env:nothing']) {
      expect((await api.get(`/api/providers/${id}`)).status).toBe(404);
      expect((await api.patch(`/api/providers/${id}`, { enabled: true })).status).toBe(404);
      expect((await api.delete(`/api/providers/${id}`)).status).toBe(404);
      expect((await api.post(`/api/providers/${id}/test`)).status).toBe(404);
      expect((await api.get(`/api/providers/${id}/models`)).status).toBe(404);
    }
  });

  it('masks the password of a base URL stored before credentials were refused there', async () => {
    const provider = await createProvider();
    const database = platform.admin!.app.get<Database>(DATABASE);
    await database.driver.query('UPDATE providers SET base_url = $1 WHERE id = $2', [
      'http://legacy-user:legacy-pass-91@127.0.0.1:9/v1',
      provider.id,
    ]);
    const shown = await api.get(`/api/providers/${provider.id}`);
    expect(shown.body.baseUrl).toBe('http://legacy-user:***@127.0.0.1:9/v1');
    expect(JSON.stringify((await api.get('/api/providers')).body)).not.toContain('legacy-pass-91');
    await api.delete(`/api/providers/${provider.id}`);
  });

  it('requires an admin: no token 401, a member 403', async () => {
    expect((await call(`${platform.adminUrl}/api/providers`)).status).toBe(401);
    expect((await call(`${platform.adminUrl}/api/routes`)).status).toBe(401);
    const teamId = await createTeam(platform);
    const login = await api.post('/api/users', {
      email: `${unique('m')}@example.com`,
      password: 'a good long password',
      role: 'member',
      teamId,
    });
    expect(login.status).toBe(201);
    const token = (
      await call(`${platform.adminUrl}/api/auth/login`, {
        body: { email: login.body.email, password: 'a good long password' },
      })
    ).body.accessToken as string;
    expect((await api.get('/api/providers', token)).status).toBe(403);
    expect((await api.post('/api/routes', {}, token)).status).toBe(403);
  });

  it('tests a stored provider and discovers its models through the admin API', async () => {
    const provider = await createProvider();
    const test = await api.post(`/api/providers/${provider.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true, models: ['vendor/model-a', 'model-b'], modelCount: 2 });
    const models = await api.get(`/api/providers/${provider.id}/models`);
    expect(models.status).toBe(200);
    expect(models.body).toMatchObject({
      provider: provider.name,
      discovered: [{ id: 'vendor/model-a', ownedBy: 'vendor' }, { id: 'model-b' }],
    });

    const wrongKey = await api.patch(`/api/providers/${provider.id}`, { apiKey: 'sk-wrong-key-000000' });
    expect(wrongKey.status).toBe(200);
    const failing = await api.post(`/api/providers/${provider.id}/test`);
    expect(failing.status).toBe(200);
    expect(failing.body.ok).toBe(false);
    expect(failing.body.message).toBeTruthy();
    expect(JSON.stringify(failing.body)).not.toContain('sk-wrong-key-000000');
    const discovery = await api.get(`/api/providers/${provider.id}/models`);
    expect(discovery.status).toBe(502);
    expect(discovery.body.error.code).toBe('upstream_error');
    expect(JSON.stringify(discovery.body)).not.toContain('sk-wrong-key-000000');
    // The gateway's refresh reports the failed discovery the same way, not the cached list.
    const refreshed = await gateway(`/v1/providers/${provider.name}/models?refresh=true`);
    expect(refreshed.status).toBe(502);
    expect(refreshed.body.error).toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining(provider.name),
    });
    expect(JSON.stringify(refreshed.body)).not.toContain('sk-wrong-key-000000');

    expect((await api.post('/api/providers/env:ollama/test')).body).toMatchObject({
      ok: true,
      models: ['llama3:8b', 'nomic-embed-text:latest'],
    });
  });

  it('manages routes: targets on stored and environment providers, bad input, conflicts', async () => {
    const provider = await createProvider();
    const alias = unique('fast');
    const created = await api.post('/api/routes', {
      alias,
      strategy: 'weighted',
      targets: [
        { provider: provider.name, model: 'model-b', weight: 3, timeoutMs: 1_000 },
        { provider: 'ollama', model: 'llama3:8b' },
      ],
      timeoutMs: 5_000,
      description: 'cheap first',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      alias,
      strategy: 'weighted',
      enabled: true,
      timeoutMs: 5_000,
      targets: [
        { provider: provider.name, model: 'model-b', weight: 3, timeoutMs: 1_000 },
        { provider: 'ollama', model: 'llama3:8b', weight: 1, timeoutMs: null },
      ],
    });
    const id = created.body.id as string;
    expect((await api.get('/api/routes')).body.map((r: Json) => r.alias)).toContain(alias);
    // The environment provider stays out of the stored providers.
    expect(
      (await api.get('/api/providers')).body.filter((p: Json) => p.name === 'ollama').map((p: Json) => p.source),
    ).toEqual(['environment']);

    const bad: Array<[Record<string, unknown>, string | null]> = [
      [{ alias: 'a/b', strategy: 'fallback', targets: [{ provider: 'ollama', model: 'x' }] }, 'alias'],
      [{ alias: unique('r'), strategy: 'random', targets: [{ provider: 'ollama', model: 'x' }] }, 'strategy'],
      [{ alias: unique('r'), strategy: 'fallback', targets: [] }, 'targets'],
      [{ alias: unique('r'), strategy: 'fallback', targets: [{ provider: 'ollama', model: '' }] }, 'targets[0].model'],
      [
        { alias: unique('r'), strategy: 'fallback', targets: [{ provider: 'ollama', model: 'x', weight: 0 }] },
        'targets[0].weight',
      ],
      [
        {
          alias: unique('r'),
          strategy: 'fallback',
          targets: [
            { provider: 'ollama', model: 'x' },
            { provider: 'nowhere', model: 'y' },
          ],
        },
        'targets[1].provider',
      ],
      [
        { alias: unique('r'), strategy: 'fallback', targets: [{ provider: 'gemini', model: 'y' }] },
        'targets[0].provider',
      ],
      [{ alias: unique('r'), strategy: 'fallback', targets: [{ provider: 'ollama', model: 'x' }], extra: 1 }, null],
    ];
    for (const [body, param] of bad) {
      const res = await api.post('/api/routes', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (param) expect(res.body.error.param, JSON.stringify(res.body)).toBe(param);
    }
    const unknown = await api.post('/api/routes', bad[5][0]);
    expect(unknown.body.error.message).toMatch(/nowhere/);
    const duplicate = await api.post('/api/routes', {
      alias,
      strategy: 'fallback',
      targets: [{ provider: 'ollama', model: 'x' }],
    });
    expect(duplicate.status).toBe(409);

    const patched = await api.patch(`/api/routes/${id}`, {
      strategy: 'fallback',
      targets: [{ provider: 'openai', model: 'gpt-4o' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      strategy: 'fallback',
      description: 'cheap first',
      targets: [{ provider: 'openai', model: 'gpt-4o', weight: 1 }],
    });
    const rejected = await api.patch(`/api/routes/${id}`, {
      description: 'changed',
      targets: [{ provider: 'nowhere', model: 'x' }],
    });
    expect(rejected.status).toBe(400);
    expect((await api.get(`/api/routes/${id}`)).body).toMatchObject({
      description: 'cheap first',
      targets: [{ provider: 'openai' }],
    });

    // A provider routes use cannot be deleted; the route can.
    const used = await api.post('/api/routes', {
      alias: unique('uses'),
      strategy: 'fallback',
      targets: [{ provider: provider.name, model: 'm' }],
    });
    const refused = await api.delete(`/api/providers/${provider.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(used.body.alias);
    expect((await api.delete(`/api/routes/${used.body.id}`)).status).toBe(204);
    expect((await api.delete(`/api/providers/${provider.id}`)).status).toBe(204);

    expect((await api.delete(`/api/routes/${id}`)).status).toBe(204);
    for (const missing of [id, 'not-a-uuid']) {
      expect((await api.get(`/api/routes/${missing}`)).status).toBe(404);
      expect((await api.patch(`/api/routes/${missing}`, { enabled: false })).status).toBe(404);
      expect((await api.delete(`/api/routes/${missing}`)).status).toBe(404);
    }
  });

  it('lists discovered provider models and route aliases on /v1/models, in OpenAI format', async () => {
    const alias = unique('smart');
    expect(
      (
        await api.post('/api/routes', {
          alias,
          strategy: 'fallback',
          targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }],
        })
      ).status,
    ).toBe(201);
    const ids = await eventually(async () => {
      const res = await gateway('/v1/models');
      const list = (res.body.data as Json[]).map((m) => m.id);
      const wanted = [
        'ollama/llama3:8b',
        'ollama/nomic-embed-text:latest',
        'openai/gpt-4o-mini',
        'anthropic/claude-3-5-haiku-20241022',
        alias,
      ];
      return wanted.every((id) => list.includes(id)) && list;
    });
    expect(ids).toContain('openai/text-embedding-3-small');
    const res = await gateway('/v1/models');
    expect(res.body.object).toBe('list');
    for (const model of res.body.data as Json[]) {
      expect(Object.keys(model).sort()).toEqual(['created', 'id', 'object', 'owned_by']);
      expect(model.object).toBe('model');
      expect(Number.isInteger(model.created)).toBe(true);
    }
    expect(res.body.data.find((m: Json) => m.id === alias).owned_by).toBe('gateway-route');

    expect((await gateway('/v1/models/ollama/llama3:8b')).body).toMatchObject({
      id: 'ollama/llama3:8b',
      object: 'model',
    });
    expect((await gateway('/v1/models/openai%2Fgpt-4o-mini')).body).toMatchObject({ id: 'openai/gpt-4o-mini' });
    expect((await gateway(`/v1/models/${alias}`)).body).toMatchObject({ id: alias, owned_by: 'gateway-route' });
    // A bare model one provider serves.
    expect((await gateway('/v1/models/llama3:8b')).body).toMatchObject({ id: 'llama3:8b', object: 'model' });
    const missing = await gateway('/v1/models/openai/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' });
    expect((await call(`${platform.gatewayUrl}/v1/models`)).status).toBe(401);
  });

  it('shows a new provider and its discovered models at once, and drops a deleted one', async () => {
    const provider = await createProvider();
    const ids = await eventually(async () => {
      const list = ((await gateway('/v1/models')).body.data as Json[]).map((m) => m.id);
      return list.includes(`${provider.name}/vendor/model-a`) && list;
    });
    expect(ids).toContain(`${provider.name}/model-b`);
    expect((await gateway(`/v1/models/${provider.name}/vendor/model-a`)).status).toBe(200);
    await api.delete(`/api/providers/${provider.id}`);
    const after = ((await gateway('/v1/models')).body.data as Json[]).map((m) => m.id);
    expect(after.filter((id) => id.startsWith(`${provider.name}/`))).toEqual([]);
  });

  it('filters /v1/models by the key allowed models', async () => {
    const teamId = await createTeam(platform);
    const { key } = await createKey(platform, teamId, { allowedModels: ['ollama/*'] });
    const list = await eventually(async () => {
      const res = await gateway('/v1/models', { token: key });
      const ids = (res.body.data as Json[]).map((m) => m.id);
      return ids.length > 0 && ids;
    });
    expect(list.every((id: string) => id.startsWith('ollama/'))).toBe(true);
    expect((await gateway('/v1/models/openai/gpt-4o-mini', { token: key })).status).toBe(404);
    // A bare name resolves as on chat, and the key's provider/* pattern allows what it resolves to.
    expect((await gateway('/v1/models/llama3:8b', { token: key })).body).toMatchObject({ id: 'llama3:8b' });
    expect((await gateway('/v1/models/gpt-4o-mini', { token: key })).status).toBe(404);
    const wide = await createKey(platform, teamId, { allowedModels: ['mock/*', 'openai/*'] });
    expect((await gateway('/v1/models/gpt-4o-mini', { token: wide.key })).body).toMatchObject({ id: 'gpt-4o-mini' });
    // Only admin and master keys see providers.
    const refused = await gateway('/v1/providers', { token: key });
    expect(refused.status).toBe(403);
    // Team keys are never admins: the message says where admins look instead.
    expect(refused.body.error.message).toMatch(/master key.*\/api\/providers/);
    expect((await gateway('/v1/providers/test', { token: key, method: 'POST', body: { kind: 'mock' } })).status).toBe(
      403,
    );
  });

  it('lists each model and route by the id a request of this key would be admitted with', async () => {
    const a = await createProvider({ models: [unique('m1')] });
    const b = await createProvider({ models: [unique('b-only')] });
    const [m1] = a.models as string[];
    const [bOnly] = b.models as string[];
    const teamId = await createTeam(platform);
    const ids = async (token: string) =>
      ((await gateway('/v1/models', { token })).body.data as Json[]).map((m) => m.id as string);
    const ask = (token: string, model: string) =>
      gateway('/v1/chat/completions', {
        token,
        method: 'POST',
        body: { model, messages: [{ role: 'user', content: 'hi' }] },
      });

    // A key allowed the bare name: listed by it (chat refuses provider/model for this key).
    const bare = await createKey(platform, teamId, { allowedModels: [m1] });
    expect(await ids(bare.key)).toEqual([m1]);
    expect((await ask(bare.key, m1)).status).toBe(200);
    expect((await ask(bare.key, `${a.name}/${m1}`)).status).toBe(403);
    expect((await gateway(`/v1/models/${a.name}/${m1}`, { token: bare.key })).status).toBe(404);
    expect((await gateway(`/v1/models/${m1}`, { token: bare.key })).body).toMatchObject({ id: m1 });

    // Routes as they resolve now: over enabled providers only.
    const mix = unique('mix');
    const onlyA = unique('only-a');
    for (const [alias, targets] of [
      [
        mix,
        [
          { provider: a.name, model: m1 },
          { provider: b.name, model: bOnly },
        ],
      ],
      [onlyA, [{ provider: a.name, model: m1 }]],
    ] as const) {
      expect((await api.post('/api/routes', { alias, strategy: 'fallback', targets })).status).toBe(201);
    }
    expect((await api.patch(`/api/providers/${a.id}`, { enabled: false })).status).toBe(200);
    const onB = await createKey(platform, teamId, { allowedModels: [`${b.name}/*`] });
    expect((await ask(onB.key, mix)).status).toBe(200);
    const listed = await ids(onB.key);
    expect(listed).toEqual(expect.arrayContaining([mix, `${b.name}/${bOnly}`]));
    expect(listed.filter((id) => id !== mix).every((id) => id.startsWith(`${b.name}/`))).toBe(true);
    expect((await gateway(`/v1/models/${mix}`, { token: onB.key })).status).toBe(200);
    // A route none of whose providers is enabled cannot be served: not listed.
    expect((await ask(TEST_MASTER_KEY, onlyA)).status).toBe(503);
    expect(await ids(TEST_MASTER_KEY)).not.toContain(onlyA);
    expect((await gateway(`/v1/models/${onlyA}`)).status).toBe(404);
  });

  it('bounds provider tests and model discovery by the provider’s timeout, and reports a timeout as one', async () => {
    const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const started = Date.now();
      const value = await fn();
      return [value, Date.now() - started];
    };
    const [unsaved, unsavedMs] = await timed(() =>
      gateway('/v1/providers/test', {
        method: 'POST',
        body: { kind: 'openai-compatible', baseUrl: hanging.baseURL, timeoutMs: 1_000 },
      }),
    );
    expect(unsaved.body).toMatchObject({ ok: false, message: expect.stringMatching(/did not answer/) });
    expect(unsavedMs).toBeGreaterThanOrEqual(900);
    expect(unsavedMs).toBeLessThan(5_000);

    const provider = await createProvider({ baseUrl: hanging.baseURL, timeoutMs: 700 });
    const [test, testMs] = await timed(() => api.post(`/api/providers/${provider.id}/test`));
    expect(test.body).toMatchObject({ ok: false, message: expect.stringMatching(/did not answer/) });
    expect(testMs).toBeLessThan(5_000);
    const [models, modelsMs] = await timed(() => api.get(`/api/providers/${provider.id}/models`));
    expect(models.status).toBe(504);
    expect(models.body.error).toMatchObject({ code: 'upstream_timeout', message: expect.stringMatching(/700 ms/) });
    expect(modelsMs).toBeLessThan(5_000);
    const [refreshed, refreshedMs] = await timed(() => gateway(`/v1/providers/${provider.name}/models?refresh=true`));
    expect(refreshed.status).toBe(504);
    expect(refreshed.body.error).toMatchObject({ code: 'upstream_timeout', message: expect.stringMatching(/700 ms/) });
    expect(refreshedMs).toBeLessThan(5_000);
  });

  it('reports providers with health and source on /v1/providers', async () => {
    const provider = await createProvider();
    const data = await eventually(async () => {
      const res = await gateway('/v1/providers');
      const list = res.body.data as Json[];
      const ready = ['openai', 'anthropic', 'ollama', provider.name].every(
        (name) => list.find((p) => p.name === name)?.health,
      );
      return ready && list;
    });
    expect(data.find((p: Json) => p.name === 'ollama')).toMatchObject({
      kind: 'ollama',
      source: 'environment',
      enabled: true,
      health: { ok: true },
      circuit: 'closed',
      problem: null,
    });
    expect(data.find((p: Json) => p.name === provider.name)).toMatchObject({
      source: 'database',
      health: { ok: true },
    });
    const models = await gateway(`/v1/providers/${provider.name}/models?refresh=true`);
    expect(models.status).toBe(200);
    expect(models.body.data.map((m: Json) => m.id)).toEqual([
      `${provider.name}/vendor/model-a`,
      `${provider.name}/model-b`,
    ]);
    expect((await gateway('/v1/providers/nope/models')).status).toBe(404);
    expect((await gateway('/v1/providers/ollama/models?refresh=maybe')).status).toBe(400);
  });

  it('never shows a credential sent in options.headers, whatever the upstream error quotes', async () => {
    const secret = 'HDR-SECRET-42';
    const echo = new FakeOpenAIServer({
      defaultBehaviour: {
        status: 400,
        body: { error: { message: `Bad request for key ${secret}`, type: 'invalid_request_error', param: null } },
      },
    });
    await echo.start();
    try {
      const config = {
        kind: 'openai-compatible',
        baseUrl: echo.baseURL,
        options: { headers: { 'x-api-key': secret } },
      };
      const { name } = await createProvider({ ...config, apiKey: undefined, models: ['m'] });
      const { key } = await createKey(platform, await createTeam(platform));
      const client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: key, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'Hi' }];
      const failures = [
        await client.chat.completions.create({ model: `${name}/m`, messages }).catch((err: unknown) => err),
        await (async () => {
          const stream = await client.chat.completions.create({ model: `${name}/m`, messages, stream: true });
          for await (const _ of stream);
        })().catch((err: unknown) => err),
      ];
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(OpenAI.APIError);
        expect((failure as Error).message).toContain('Bad request for key [redacted]');
        expect(JSON.stringify((failure as InstanceType<typeof OpenAI.APIError>).error)).not.toContain(secret);
      }
      const probe = await gateway('/v1/providers/test', { method: 'POST', body: config });
      expect(probe.body).toMatchObject({ ok: false });
      const listed = await eventually(async () => {
        const res = await gateway('/v1/providers');
        const mine = (res.body.data as Json[]).find((p) => p.name === name);
        return mine?.health && mine.models.error ? res : undefined;
      });
      const audit = await api.get('/api/audit');
      for (const body of [probe.body, listed.body, audit.body, (await api.get('/api/providers')).body]) {
        expect(JSON.stringify(body)).not.toContain(secret);
      }
    } finally {
      await echo.close();
    }
  });

  it('keeps a header’s stored value when the options as read are sent back with another change', async () => {
    const created = await createProvider({
      models: ['m'],
      options: { headers: { 'X-Proxy-Auth': 'hidden-header-value' } },
    });
    const read = await api.get(`/api/providers/${created.id}`);
    expect(read.body.options).toEqual({ headers: { 'X-Proxy-Auth': '[redacted]' } });
    const patched = await api.patch(`/api/providers/${created.id}`, {
      options: { ...read.body.options, nativeTools: false },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.options).toEqual({ headers: { 'X-Proxy-Auth': '[redacted]' }, nativeTools: false });
    upstream.reset();
    const answer = await gateway('/v1/chat/completions', {
      body: { model: `${created.name}/m`, messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(upstream.lastRequest?.headers['x-proxy-auth']).toBe('hidden-header-value');
    // A placeholder for a header that has no stored value is no value at all.
    for (const res of [
      await api.patch(`/api/providers/${created.id}`, { options: { headers: { 'x-other': '[redacted]' } } }),
      await api.post('/api/providers', {
        name: unique('copy').toLowerCase(),
        kind: 'openai-compatible',
        baseUrl: upstream.baseURL,
        options: { headers: { 'x-proxy-auth': '[redacted]' } },
      }),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.param).toMatch(/^options\.headers\.(x-other|x-proxy-auth)$/);
    }
    await api.delete(`/api/providers/${created.id}`);
  });

  it('checks a configuration without saving it on POST /v1/providers/test', async () => {
    const ok = await gateway('/v1/providers/test', {
      method: 'POST',
      body: { kind: 'openai-compatible', baseUrl: upstream.baseURL, apiKey: STORED_KEY },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, modelCount: 2, models: ['vendor/model-a', 'model-b'] });
    const ollamaTest = await gateway('/v1/providers/test', {
      method: 'POST',
      body: { kind: 'ollama', baseUrl: ollama.origin },
    });
    expect(ollamaTest.body).toMatchObject({ ok: true, models: ['llama3:8b', 'nomic-embed-text:latest'] });
    const wrongKey = await gateway('/v1/providers/test', {
      method: 'POST',
      body: { kind: 'openai', baseUrl: openai.baseURL, apiKey: 'sk-not-the-right-one' },
    });
    expect(wrongKey.status).toBe(200);
    expect(wrongKey.body.ok).toBe(false);
    expect(JSON.stringify(wrongKey.body)).not.toContain('sk-not-the-right-one');
    const unreachable = await gateway('/v1/providers/test', {
      method: 'POST',
      body: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' },
    });
    expect(unreachable.body).toMatchObject({ ok: false, modelCount: null });
    const bad: Array<[Record<string, unknown>, string | null]> = [
      [{ kind: 'openai-compatible' }, 'baseUrl'],
      [{ kind: 'nope' }, 'kind'],
      [{ kind: 'mock', baseUrl: 'file:///etc' }, 'baseUrl'],
      [{ kind: 'mock', extra: 1 }, null],
      [{ kind: 'openai-compatible', baseUrl: 'http://user:url-pass-77@127.0.0.1:9/v1' }, 'baseUrl'],
      [{ kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1?x=1#frag' }, 'baseUrl'],
      [{ kind: 'openai', apiKey: 'sk-abc\r\nx' }, 'apiKey'],
      [{ kind: 'openai', options: { headers: { 'x-api-key': 'a\nb' } } }, 'options.headers.x-api-key'],
      // The placeholder the admin API shows for a stored value: nothing is stored for a test.
      [{ kind: 'openai', options: { headers: { 'x-api-key': '[redacted]' } } }, 'options.headers.x-api-key'],
    ];
    for (const [body, param] of bad) {
      const res = await gateway('/v1/providers/test', { method: 'POST', body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (param) expect(res.body.error.param, JSON.stringify(res.body)).toBe(param);
      expect(JSON.stringify(res.body)).not.toContain('url-pass-77');
    }
    const stored = ((await api.get('/api/providers')).body as Json[]).map((p) => p.name);
    expect(stored).not.toContain('test');
  });
});

describe('provider credentials at rest', () => {
  it('stores the API key encrypted under SECRET_KEY, never in clear', async () => {
    const database = await createTestDatabase();
    const platform = await startPlatform({ database, apps: ['admin'] });
    const name = unique('enc').toLowerCase();
    try {
      const res = await adminApi(platform).post('/api/providers', { name, kind: 'mock', apiKey: STORED_KEY });
      expect(res.status).toBe(201);
    } finally {
      await platform.close();
    }
    try {
      const stored = await readProviderKey(database, name);
      expect(stored).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
      expect(stored).not.toContain(STORED_KEY);
      expect(new SecretCipher(platform.config.secretKey!).decrypt(stored)).toBe(STORED_KEY);
      expect(() => new SecretCipher('another-secret-key-of-32-characters!').decrypt(stored)).toThrow();
    } finally {
      await database.drop();
    }
  });

  it('stores header values encrypted too, and encrypts those stored in clear before at the next boot', async () => {
    const upstream = new FakeOpenAIServer({ apiKey: STORED_KEY });
    await upstream.start();
    const database = await createTestDatabase();
    const name = unique('hdr').toLowerCase();
    const storedHeaders = async () => {
      const rows = await querySql<{ config: unknown }>(database, 'SELECT config FROM providers WHERE name = $1', [
        name,
      ]);
      const config = rows[0].config;
      const parsed = (typeof config === 'string' ? JSON.parse(config) : config) as { headers: Record<string, string> };
      return parsed.headers;
    };
    /** Starts the platform, has it call the provider, and closes it: the header the upstream got. */
    const sentHeader = async (create: boolean) => {
      const platform = await startPlatform({ database });
      try {
        if (create) {
          const res = await adminApi(platform).post('/api/providers', {
            name,
            kind: 'openai-compatible',
            baseUrl: upstream.baseURL,
            apiKey: STORED_KEY,
            models: ['m'],
            options: { headers: { 'X-Proxy-Auth': 'hidden-header-value' } },
          });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
        }
        const answer = await call(`${platform.gatewayUrl}/v1/chat/completions`, {
          token: TEST_MASTER_KEY,
          body: { model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] },
        });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        return { header: upstream.lastRequest?.headers['x-proxy-auth'], secretKey: platform.config.secretKey! };
      } finally {
        await platform.close();
      }
    };
    try {
      const first = await sentHeader(true);
      expect(first.header).toBe('hidden-header-value');
      const sealed = (await storedHeaders())['X-Proxy-Auth'];
      expect(sealed).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
      expect(new SecretCipher(first.secretKey).decrypt(sealed)).toBe('hidden-header-value');

      // A value stored in clear, as before header values were encrypted: used, and encrypted at boot.
      await querySql(database, 'UPDATE providers SET config = $1 WHERE name = $2', [
        JSON.stringify({ headers: { 'X-Proxy-Auth': 'legacy-clear-value' } }),
        name,
      ]);
      expect((await sentHeader(false)).header).toBe('legacy-clear-value');
      const resealed = (await storedHeaders())['X-Proxy-Auth'];
      expect(resealed).toMatch(/^v1:/);
      expect(new SecretCipher(first.secretKey).decrypt(resealed)).toBe('legacy-clear-value');
    } finally {
      await database.drop();
      await upstream.close();
    }
  });

  it('refuses to keep a header value sealed under another SECRET_KEY: it must be sent again, never sealed twice', async () => {
    const database = await createTestDatabase();
    const name = unique('rot').toLowerCase();
    const boot = (secret: string) =>
      startPlatform({ database, apps: ['admin'], env: { SECRET_KEY: secret.repeat(40).slice(0, 40) } });
    try {
      const before = await boot('a');
      try {
        const res = await adminApi(before).post('/api/providers', {
          name,
          kind: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:9/v1',
          options: { headers: { 'X-Token': 'tok-secret-1', 'X-Other': 'other-1' } },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      } finally {
        await before.close();
      }
      const after = await boot('b');
      const api = adminApi(after);
      try {
        const [provider] = ((await api.get('/api/providers')).body as Json[]).filter((p) => p.name === name);
        const asRead = await api.patch(`/api/providers/${provider.id}`, { options: provider.options, enabled: true });
        expect(asRead.status, JSON.stringify(asRead.body)).toBe(409);
        expect(asRead.body.error.param).toMatch(/^options\.headers\.X-(Token|Other)$/);
        expect(asRead.body.error.message).toMatch(/cannot be decrypted .* send its value again/);
        // Sent again, the values are sealed under the new key.
        const sentAgain = await api.patch(`/api/providers/${provider.id}`, {
          options: { headers: { 'X-Token': 'tok-secret-2', 'X-Other': 'other-2' } },
        });
        expect(sentAgain.status, JSON.stringify(sentAgain.body)).toBe(200);
        const { secretKey } = after.config;
        await after.close();
        const rows = await querySql<{ config: unknown }>(database, 'SELECT config FROM providers WHERE name = $1', [
          name,
        ]);
        const headers = (rows[0].config as { headers: Record<string, string> }).headers;
        expect(new SecretCipher(secretKey!).decrypt(headers['X-Token'])).toBe('tok-secret-2');
      } finally {
        await after.close();
      }
    } finally {
      await database.drop();
    }
  });
});

describe.each(['pglite', 'postgres'] as const)('text PostgreSQL cannot store (%s)', (databaseKind) => {
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;
  beforeAll(async () => {
    platform = await startPlatform({ apps: ['admin'], databaseKind });
    api = adminApi(platform);
  });
  afterAll(async () => platform?.close());

  const provider = (fields: Record<string, unknown>) => ({
    name: unique('nul').toLowerCase(),
    kind: 'mock',
    ...fields,
  });
  const route = (fields: Record<string, unknown>) => ({
    alias: unique('nul'),
    strategy: 'fallback',
    targets: [{ provider: 'mock', model: 'echo' }],
    ...fields,
  });

  it.each<[string, string, () => Record<string, unknown>, string | null]>([
    ['a team name', '/api/teams', () => ({ name: 'team\u0000x' }), 'name'],
    ['a model', '/api/providers', () => provider({ models: ['a\u0000b'] }), 'models[0]'],
    ['a base URL', '/api/providers', () => provider({ baseUrl: 'http://127.0.0.1:9/v1\u0000' }), 'baseUrl'],
    [
      'a header',
      '/api/providers',
      () => provider({ options: { headers: { 'x-k': 'v\u0000' } } }),
      'options.headers.x-k',
    ],
    [
      'a deployment',
      '/api/providers',
      () => provider({ options: { deployments: { m: 'd\u0000' } } }),
      'options.deployments.m',
    ],
    [
      'an api version',
      '/api/providers',
      () => provider({ options: { apiVersion: '2024\u0000' } }),
      'options.apiVersion',
    ],
    [
      'a route target',
      '/api/routes',
      () => route({ targets: [{ provider: 'mock', model: 'e\u0000' }] }),
      'targets[0].model',
    ],
    ['a route description', '/api/routes', () => route({ description: 'x\u0000' }), 'description'],
  ])('refuses a NUL in %s with 400, not 500', async (_what, path, body, param) => {
    const res = await api.post(path, body());
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error' });
    if (param) expect(res.body.error.param).toBe(param);
  });

  it.each<[string, string, () => Record<string, unknown>, string]>([
    ['a team name', '/api/teams', () => ({ name: 'team\ud800' }), 'name'],
    [
      "a team's allowed models",
      '/api/teams',
      () => ({ name: unique('t'), allowedModels: ['\ud800'] }),
      'allowedModels[0]',
    ],
    ['a model', '/api/providers', () => provider({ models: ['a\udfffb'] }), 'models[0]'],
    ['a model map key', '/api/providers', () => provider({ options: { models: { 'a\udc00': {} } } }), 'options.models'],
    ['a route description', '/api/routes', () => route({ description: 'x\udc00' }), 'description'],
  ])(
    'refuses an unpaired surrogate in %s with 400 naming it, not 500 or a stored U+FFFD',
    async (_what, path, body, param) => {
      const res = await api.post(path, body());
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error', param });
    },
  );

  it('refuses a NUL in an update with 400 and keeps the stored value', async () => {
    const created = await api.post('/api/providers', provider({ models: ['ok'] }));
    expect(created.status).toBe(201);
    const res = await api.patch(`/api/providers/${created.body.id}`, { models: ['ok\u0000'] });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect((await api.get(`/api/providers/${created.body.id}`)).body.models).toEqual(['ok']);
  });
});
