import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '@app/config';
import { ApiKeyRepository, type Database, isDatabaseUnavailable, openDatabase } from '@app/db';
import { RedisConnections } from '@app/server';
import { TcpProxy, createTestDatabase, hasTestPostgres, type TestDatabase } from '@app/testing';
import { ApiKeyAuthService, KEY_DEGRADED_MS, KEY_RELOAD_WAIT_MS, KEY_STALE_IF_ERROR_MS } from './api-key-auth.service';
import { generateApiKey } from './api-key-format';
import { KeyInvalidationBus } from './key-invalidation';
import { LastUsedTracker } from './last-used.tracker';

const TTL_MS = 30_000;

/** How long `fn` took, in ms (real time: only `Date` is faked here). */
async function took(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

describe.skipIf(!hasTestPostgres())('ApiKeyAuthService when the database does not answer', () => {
  let testDb: TestDatabase;
  let database: Database;
  let proxy: TcpProxy;
  let service: ApiKeyAuthService;
  const key = generateApiKey();
  const unseen = generateApiKey();
  let keyId: string;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    const cut = await TcpProxy.before(testDb.env.DATABASE_URL!);
    proxy = cut.proxy;
    const config = loadConfig({
      ...testDb.env,
      DATABASE_URL: cut.url,
      DB_QUERY_TIMEOUT_MS: '500',
      KEY_CACHE_TTL_MS: String(TTL_MS),
    });
    database = await openDatabase({ ...config.database, migrate: false });
    const team = await database.prisma.team.create({ data: { name: 'outage' } });
    keyId = (
      await database.prisma.apiKey.create({
        data: { teamId: team.id, name: 'outage', keyHash: key.hash, prefix: key.prefix },
      })
    ).id;
    await database.prisma.apiKey.create({
      data: { teamId: team.id, name: 'unseen', keyHash: unseen.hash, prefix: unseen.prefix },
    });
    const keys = new ApiKeyRepository(database.prisma);
    service = new ApiKeyAuthService(
      config,
      keys,
      new LastUsedTracker(keys, config),
      new KeyInvalidationBus(new RedisConnections(loadConfig({}))),
    );
  });
  afterEach(() => {
    vi.useRealTimers();
    proxy.restore();
  });
  afterAll(async () => {
    await database?.close();
    await proxy?.close();
    await testDb?.drop();
  });

  it('serves a verified key as last verified, asks again only a TTL later, and not past its trust', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
    expect((await service.authenticate(key.plaintext)).apiKeyId).toBe(keyId);

    advance(TTL_MS + 1); // due for a reload
    proxy.refuse();
    expect((await service.authenticate(key.plaintext)).apiKeyId).toBe(keyId);
    // A key never verified is not vouched for: 503, not 401.
    const refused = await service.authenticate(unseen.plaintext).catch((error: unknown) => error);
    expect(isDatabaseUnavailable(refused)).toBe(true);

    // Past the outage window, but the stand-in counts as fresh for a TTL: no query, no wait.
    advance(KEY_DEGRADED_MS + 1);
    proxy.blackhole();
    expect(await took(() => service.authenticate(key.plaintext))).toBeLessThan(KEY_RELOAD_WAIT_MS / 2);

    // A TTL later the database is asked again; silent, it is waited for at most KEY_RELOAD_WAIT_MS.
    advance(TTL_MS);
    const waited = await took(() => service.authenticate(key.plaintext));
    expect(waited).toBeGreaterThanOrEqual(KEY_RELOAD_WAIT_MS - 50);
    expect(waited).toBeLessThan(KEY_RELOAD_WAIT_MS + 1_000);

    // Verified over an hour (and a TTL) ago: no longer trusted while the database is away.
    advance(KEY_STALE_IF_ERROR_MS);
    proxy.refuse();
    const untrusted = await service.authenticate(key.plaintext).catch((error: unknown) => error);
    expect(isDatabaseUnavailable(untrusted)).toBe(true);

    proxy.restore();
    expect((await service.authenticate(key.plaintext)).apiKeyId).toBe(keyId);
    expect((await service.authenticate(unseen.plaintext)).teamName).toBe('outage');
  });
});
