import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, hasTestPostgres, type TestDatabase } from '@app/testing';
import { type Database, openDatabase } from '../database';
import { type ProviderFields, ProviderRepository } from './provider.repository';
import { type RouteFields, RouteRepository, UnknownProviderError } from './route.repository';
import { DuplicateError } from './user.repository';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];

/** Names unique per test, so tests share the database without wiping it. */
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

function providerFields(overrides: Partial<ProviderFields> = {}): ProviderFields {
  return {
    name: unique('p'),
    kind: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:1/v1',
    apiKeyEncrypted: 'v1:aaaa:bbbb:cccc',
    enabled: true,
    models: ['m1'],
    timeoutMs: null,
    options: {},
    ...overrides,
  };
}

function routeFields(targets: RouteFields['targets'], overrides: Partial<RouteFields> = {}): RouteFields {
  return {
    alias: unique('r'),
    strategy: 'fallback',
    description: null,
    enabled: true,
    timeoutMs: null,
    targets,
    ...overrides,
  };
}

const target = (provider: string, model = 'm1', weight = 1) => ({ provider, model, weight, timeoutMs: null });

describe.each(kinds)('provider and route repositories on %s', (kind) => {
  let testDb: TestDatabase;
  let database: Database;
  let providers: ProviderRepository;
  let routes: RouteRepository;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    database = await openDatabase({
      url: testDb.env.DATABASE_URL,
      dataDir: testDb.env.DATA_DIR,
      migrationsDir: '',
      connectTimeoutMs: 5_000,
      migrate: false,
    });
    providers = new ProviderRepository(database.prisma);
    routes = new RouteRepository(database.prisma);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('stores a provider and never returns its encrypted key outside listWithSecrets', async () => {
    const created = await providers.create(providerFields({ kind: 'azure-openai', options: { apiVersion: 'x' } }));
    expect(created).toMatchObject({ kind: 'azure-openai', hasApiKey: true, options: { apiVersion: 'x' } });
    expect(created).not.toHaveProperty('apiKeyEncrypted');
    expect(await providers.findById(created.id)).not.toHaveProperty('apiKeyEncrypted');
    expect((await providers.list()).find((p) => p.id === created.id)).not.toHaveProperty('apiKeyEncrypted');
    const withSecret = (await providers.listWithSecrets()).find((p) => p.id === created.id);
    expect(withSecret?.apiKeyEncrypted).toBe('v1:aaaa:bbbb:cccc');
  });

  it('rejects a duplicate name and treats malformed ids as not found', async () => {
    const created = await providers.create(providerFields());
    await expect(providers.create(providerFields({ name: created.name }))).rejects.toBeInstanceOf(DuplicateError);
    expect(await providers.findById('not-a-uuid')).toBeNull();
    expect(await providers.update('not-a-uuid', { enabled: false })).toBeNull();
    expect(await providers.delete('00000000-0000-0000-0000-000000000000', { keepAsReference: false })).toEqual({
      status: 'not_found',
    });
  });

  it('updates fields, clears the key and renames', async () => {
    const created = await providers.create(providerFields());
    const name = unique('renamed');
    const updated = await providers.update(created.id, { name, apiKeyEncrypted: null, models: [] });
    expect(updated).toMatchObject({ name, hasApiKey: false, models: [], kind: 'openai-compatible' });
  });

  it('writes a route and its ordered targets together, naming providers', async () => {
    const a = await providers.create(providerFields());
    const b = await providers.create(providerFields({ kind: 'mock' }));
    const route = await routes.create(
      routeFields([target(b.name, 'x', 3), target(a.name, 'y/z')], { strategy: 'least-latency', timeoutMs: 900 }),
      [],
    );
    expect(route).toMatchObject({
      strategy: 'least-latency',
      timeoutMs: 900,
      targets: [
        { provider: b.name, model: 'x', weight: 3, timeoutMs: null },
        { provider: a.name, model: 'y/z', weight: 1, timeoutMs: null },
      ],
    });
    const updated = await routes.update(route.id, { targets: [target(a.name, 'only')], strategy: 'round-robin' }, []);
    expect(updated).toMatchObject({ strategy: 'round-robin', targets: [{ provider: a.name, model: 'only' }] });
    expect((await routes.list()).find((r) => r.id === route.id)?.targets).toHaveLength(1);
  });

  it('leaves a route untouched when its new targets name an unknown provider', async () => {
    const a = await providers.create(providerFields());
    const route = await routes.create(routeFields([target(a.name)]), []);
    await expect(
      routes.update(route.id, { alias: unique('changed'), targets: [target(a.name), target('nope')] }, []),
    ).rejects.toEqual(expect.objectContaining({ provider: 'nope', index: 1 }));
    expect(await routes.findById(route.id)).toEqual(route);
    await expect(routes.create(routeFields([target('nope')]), [])).rejects.toBeInstanceOf(UnknownProviderError);
  });

  it('rejects a duplicate alias', async () => {
    const a = await providers.create(providerFields());
    const route = await routes.create(routeFields([target(a.name)]), []);
    await expect(routes.create(routeFields([target(a.name)], { alias: route.alias }), [])).rejects.toBeInstanceOf(
      DuplicateError,
    );
  });

  it('refuses to delete a provider routes use, unless an external one of its name takes over', async () => {
    const a = await providers.create(providerFields());
    const route = await routes.create(routeFields([target(a.name)]), []);
    expect(await providers.delete(a.id, { keepAsReference: false })).toEqual({
      status: 'in_use',
      routes: [route.alias],
    });
    expect(await providers.delete(a.id, { keepAsReference: true })).toMatchObject({ status: 'deleted' });
    expect(await providers.findById(a.id)).toBeNull();
    expect((await providers.list()).map((p) => p.name)).not.toContain(a.name);
    // The route still names it: it now means the external provider of that name.
    expect((await routes.findById(route.id))?.targets[0].provider).toBe(a.name);
  });

  it('lets routes name external providers through hidden rows, which a stored one of that name replaces', async () => {
    const name = unique('env');
    const route = await routes.create(routeFields([target(name)]), [{ name, kind: 'ollama' }]);
    expect(route.targets[0].provider).toBe(name);
    expect((await providers.list()).map((p) => p.name)).not.toContain(name);
    // Without the external provider the name means nothing.
    await expect(routes.update(route.id, { targets: [target(name)] }, [])).rejects.toBeInstanceOf(UnknownProviderError);
    const stored = await providers.create(providerFields({ name, kind: 'ollama' }));
    expect(stored.name).toBe(name);
    expect((await providers.list()).filter((p) => p.name === name)).toHaveLength(1);
    expect((await routes.findById(route.id))?.targets[0].provider).toBe(name);
    await expect(providers.create(providerFields({ name }))).rejects.toBeInstanceOf(DuplicateError);
  });

  it('renames a stored provider with the routes made for it, never with those made for the external one', async () => {
    const name = unique('env');
    const external = [{ name, kind: 'openai' as const }];
    const forExternal = await routes.create(routeFields([target(name)]), external);
    const stored = await providers.create(providerFields({ name }));
    const forStored = await routes.create(routeFields([target(name)]), external);
    // Editing the targets keeps each on the provider it was made for.
    await routes.update(forExternal.id, { targets: [target(name, 'm2', 2)] }, external);
    const renamed = unique('renamed');
    await providers.update(stored.id, { name: renamed });
    expect((await routes.findById(forExternal.id))?.targets).toEqual([
      { provider: name, model: 'm2', weight: 2, timeoutMs: null },
    ]);
    expect((await routes.findById(forStored.id))?.targets[0].provider).toBe(renamed);

    // Onto the external name and away again: nothing moves.
    const other = await providers.create(providerFields());
    await providers.update(other.id, { name });
    await providers.update(other.id, { name: unique('away') });
    expect((await routes.findById(forExternal.id))?.targets[0].provider).toBe(name);
  });

  it('hands the targets of a deleted stored provider to the external row of its name', async () => {
    const name = unique('env');
    const external = [{ name, kind: 'openai' as const }];
    const forExternal = await routes.create(routeFields([target(name)]), external);
    const stored = await providers.create(providerFields({ name }));
    const forStored = await routes.create(routeFields([target(name), target(name, 'm2')]), external);
    expect(await providers.delete(stored.id, { keepAsReference: true })).toMatchObject({ status: 'deleted' });
    for (const route of [forExternal, forStored]) {
      expect((await routes.findById(route.id))?.targets.map((t) => t.provider)).toEqual(route.targets.map(() => name));
    }
    // One external row carries them all: a stored provider of that name may come back.
    expect((await providers.create(providerFields({ name }))).name).toBe(name);
  });

  it('deletes a route with its targets and the external rows nobody uses any more', async () => {
    const name = unique('env');
    const route = await routes.create(routeFields([target(name)]), [{ name, kind: 'openai' }]);
    expect(await routes.delete(route.id)).toMatchObject({ alias: route.alias });
    expect(await routes.findById(route.id)).toBeNull();
    expect(await routes.delete(route.id)).toBeNull();
    // A new route to the same external name creates a fresh external row without conflict.
    const again = await routes.create(routeFields([target(name)]), [{ name, kind: 'openai' }]);
    expect(again.targets[0].provider).toBe(name);
  });

  it('creates routes at once naming an external provider no route used yet: no false duplicate alias', async () => {
    const name = unique('env');
    const external = [{ name, kind: 'ollama' as const }];
    const created = await Promise.all(
      Array.from({ length: 6 }, () => routes.create(routeFields([target(name)]), external)),
    );
    for (const route of created) expect(route.targets).toEqual([target(name)]);
  });

  it('keeps the target of a route created while the last route naming the same external provider goes', async () => {
    const name = unique('env');
    const external = [{ name, kind: 'ollama' as const }];
    for (let round = 0; round < 15; round++) {
      const old = await routes.create(routeFields([target(name)]), external);
      const [, created] = await Promise.all([
        routes.delete(old.id),
        routes.create(routeFields([target(name)]), external),
      ]);
      expect((await routes.findById(created.id))?.targets).toEqual([target(name)]);
      await routes.delete(created.id);
    }
  });

  it('never leaves a route pointing at a provider deleted while the route was being created', async () => {
    for (let round = 0; round < 15; round++) {
      const provider = await providers.create(providerFields());
      const [deleted, created] = await Promise.allSettled([
        providers.delete(provider.id, { keepAsReference: false }),
        routes.create(routeFields([target(provider.name)]), []),
      ]);
      if (created.status === 'fulfilled') {
        // The route came first: the provider is in use and stays.
        expect(deleted).toMatchObject({ status: 'fulfilled', value: { status: 'in_use' } });
        expect((await routes.findById(created.value.id))?.targets).toEqual([target(provider.name)]);
      } else {
        expect(created.reason).toBeInstanceOf(UnknownProviderError);
        expect(deleted).toMatchObject({ status: 'fulfilled', value: { status: 'deleted' } });
      }
    }
  });
});
