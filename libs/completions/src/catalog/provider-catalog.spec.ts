import { randomBytes } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppConfigModule, loadConfig, resolveSecrets, SecretCipher } from '@app/config';
import { DbModule, type ProviderFields, ProviderRepository, RouteRepository } from '@app/db';
import { RedisModule } from '@app/server';
import { createTestDatabase, FakeOllamaServer, FakeOpenAIServer, type TestDatabase } from '@app/testing';
import { CatalogChangeBus } from './catalog-change.bus';
import { ModelCatalog } from './model-catalog';
import { ModelResolver } from './model-resolver';
import { ProviderCatalogModule } from './provider-catalog.module';
import { ProviderRegistry } from './provider-registry';
import { ProviderStatusService } from './provider-status.service';

const KEY = 'sk-catalog-test-0123456789';
const name = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

/** The catalog services of one app over a real database, with an Ollama from the environment. */
describe('provider catalog services', () => {
  const upstream = new FakeOpenAIServer({ apiKey: KEY, models: ['alpha', 'beta'] });
  const ollama = new FakeOllamaServer();
  let database: TestDatabase;
  let app: TestingModule;
  let registry: ProviderRegistry;
  let catalog: ModelCatalog;
  let resolver: ModelResolver;
  let repository: ProviderRepository;
  let cipher: SecretCipher;
  let bus: CatalogChangeBus;

  const fields = (overrides: Partial<ProviderFields> = {}): ProviderFields => ({
    name: name('up'),
    kind: 'openai-compatible',
    baseUrl: upstream.baseURL,
    apiKeyEncrypted: cipher.encrypt(KEY),
    enabled: true,
    models: [],
    timeoutMs: null,
    options: {},
    ...overrides,
  });
  /** Stores a provider the way the admin API does: write, then announce. */
  const store = async (overrides: Partial<ProviderFields> = {}) => {
    const record = await repository.create(fields(overrides));
    await bus.publish({ scope: 'providers' });
    return record;
  };

  beforeAll(async () => {
    await Promise.all([upstream.start(), ollama.start()]);
    database = await createTestDatabase();
    const config = resolveSecrets(
      loadConfig({
        NODE_ENV: 'test',
        SECRET_KEY: randomBytes(32).toString('base64'),
        OLLAMA_HOST: ollama.origin,
        ...database.env,
      }),
    );
    app = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(config), DbModule.forRoot(), RedisModule, ProviderCatalogModule],
    }).compile();
    app.enableShutdownHooks();
    await app.init();
    registry = app.get(ProviderRegistry);
    catalog = app.get(ModelCatalog);
    resolver = app.get(ModelResolver);
    repository = app.get(ProviderRepository);
    cipher = app.get(SecretCipher);
    bus = app.get(CatalogChangeBus);
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await Promise.all([upstream.close(), ollama.close()]);
  });

  it('registers environment providers at boot and discovers their models in the background', async () => {
    expect(registry.get('ollama')).toMatchObject({ kind: 'ollama', source: 'environment', enabled: true });
    await catalog.refresh('ollama');
    expect(catalog.modelsOf('ollama')).toEqual(['llama3:8b', 'nomic-embed-text:latest']);
    expect(catalog.providersServing('llama3:8b')).toEqual(['ollama']);
    expect(resolver.resolve('llama3:8b').targets).toEqual([{ provider: 'ollama', model: 'llama3:8b', weight: 1 }]);
  });

  it('merges configured and discovered models and keeps the last good list when discovery fails', async () => {
    const provider = await store({ models: ['pinned', 'alpha'] });
    await catalog.refresh(provider.name);
    expect(catalog.modelsOf(provider.name)).toEqual(['pinned', 'alpha', 'beta']);
    expect(catalog.list().filter((m) => m.provider === provider.name)).toEqual([
      expect.objectContaining({ id: `${provider.name}/alpha`, model: 'alpha' }),
      expect.objectContaining({ id: `${provider.name}/beta`, ownedBy: 'openai' }),
      expect.objectContaining({ id: `${provider.name}/pinned`, ownedBy: provider.name }),
    ]);

    upstream.enqueue({ status: 500, times: 5 });
    await catalog.refresh(provider.name);
    expect(catalog.modelsOf(provider.name)).toEqual(['pinned', 'alpha', 'beta']);
    expect(catalog.discoveryStatus(provider.name)).toMatchObject({ discovered: 2, error: expect.any(String) });
    upstream.reset();
    await catalog.refresh(provider.name);
    expect(catalog.discoveryStatus(provider.name).error).toBeNull();
  });

  it('keeps an unchanged provider’s adapter across reloads and replaces it on change', async () => {
    const provider = await store();
    const adapter = registry.get(provider.name)?.adapter;
    // Circuits and latency samples start afresh for these (RoutingService).
    const replaced: string[] = [];
    const off = registry.onChange((_changed, names) => replaced.push(...names.filter((n) => n === provider.name)));
    await registry.reload();
    expect(registry.get(provider.name)?.adapter).toBe(adapter);

    await repository.update(provider.id, { enabled: false });
    await bus.publish({ scope: 'providers' });
    expect(registry.get(provider.name)).toMatchObject({ enabled: false });
    expect(registry.get(provider.name)?.adapter).toBe(adapter);
    expect(catalog.list().some((m) => m.provider === provider.name)).toBe(false);
    expect(replaced).toEqual([]);

    await repository.update(provider.id, { enabled: true, timeoutMs: 1234 });
    await bus.publish({ scope: 'providers' });
    expect(registry.get(provider.name)).toMatchObject({ enabled: true, timeoutMs: 1234 });
    expect(registry.get(provider.name)?.adapter).not.toBe(adapter);
    expect(replaced).toEqual([provider.name]);

    await repository.delete(provider.id, { keepAsReference: false });
    await bus.publish({ scope: 'providers' });
    expect(registry.get(provider.name)).toBeUndefined();
    expect(replaced).toEqual([provider.name, provider.name]);
    off();
  });

  it('lets a stored provider replace an environment one of the same name, and gives it back on delete', async () => {
    const stored = await store({ name: 'ollama', kind: 'mock', apiKeyEncrypted: null, baseUrl: null });
    expect(registry.get('ollama')).toMatchObject({ source: 'database', kind: 'mock', id: stored.id });
    expect((await repository.delete(stored.id, { keepAsReference: true })).status).toBe('deleted');
    await bus.publish({ scope: 'providers' });
    expect(registry.get('ollama')).toMatchObject({ source: 'environment', kind: 'ollama' });
  });

  it('reports a provider whose key cannot be decrypted instead of registering it', async () => {
    const other = new SecretCipher('a-different-secret-key-0123456789abcdef');
    const provider = await store({ apiKeyEncrypted: other.encrypt(KEY) });
    expect(registry.get(provider.name)).toBeUndefined();
    const problem = registry.problems().find((p) => p.name === provider.name);
    expect(problem?.message).toMatch(/another SECRET_KEY/);
    expect(problem?.message).not.toContain(KEY);
    expect(app.get(ProviderStatusService).get(provider.name)).toMatchObject({
      enabled: false,
      problem: expect.any(String),
    });
  });

  it("bounds a background health check by the provider's own timeout", async () => {
    const silent = new FakeOpenAIServer({ apiKey: KEY, defaultBehaviour: { hang: true } });
    await silent.start();
    try {
      const provider = await store({ baseUrl: silent.baseURL, timeoutMs: 200 });
      const status = app.get(ProviderStatusService);
      const started = Date.now();
      await status.check(provider.name);
      // Not the 10 s the catalog allows a provider without a timeout of its own.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(status.get(provider.name)?.health).toMatchObject({ ok: false });
    } finally {
      await silent.close();
    }
  });

  it('resolves route aliases loaded from the database', async () => {
    const provider = await store();
    const alias = name('alias');
    await app.get(RouteRepository).create(
      {
        alias,
        strategy: 'round-robin',
        description: null,
        enabled: true,
        timeoutMs: 2_000,
        targets: [
          { provider: provider.name, model: 'alpha', weight: 2, timeoutMs: null },
          { provider: 'ollama', model: 'llama3:8b', weight: 1, timeoutMs: 500 },
        ],
      },
      [{ name: 'ollama', kind: 'ollama' }],
    );
    await bus.publish({ scope: 'routes' });
    expect(resolver.resolve(alias)).toEqual({
      requested: alias,
      alias,
      strategy: 'round-robin',
      agent: null,
      targets: [
        { provider: provider.name, model: 'alpha', weight: 2, timeoutMs: 2_000 },
        { provider: 'ollama', model: 'llama3:8b', weight: 1, timeoutMs: 500 },
      ],
    });
  });

  it('puts registered agents first in resolution', () => {
    resolver.registerAgentLookup({ find: (id) => (id === 'my-agent' ? { id, model: 'ollama/llama3:8b' } : undefined) });
    try {
      expect(resolver.resolve('my-agent')).toMatchObject({
        requested: 'my-agent',
        agent: { id: 'my-agent' },
        targets: [{ provider: 'ollama', model: 'llama3:8b' }],
      });
    } finally {
      resolver.registerAgentLookup(null);
    }
    expect(() => resolver.resolve('my-agent')).toThrow(/does not exist/);
  });
});
