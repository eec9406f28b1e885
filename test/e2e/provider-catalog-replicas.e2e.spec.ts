import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { type AppProcess, spawnGatewayReplica } from '../support/process';
import { adminApi, call, type Json, unique } from '../support/tenancy';

const redisUrl = process.env.TEST_REDIS_URL;
const postgresUrl = process.env.TEST_DATABASE_URL;
const reason =
  redisUrl && postgresUrl
    ? ''
    : ' (skipped: needs TEST_DATABASE_URL and TEST_REDIS_URL: two processes share PostgreSQL and hear changes over Redis)';

/** Polls `check` until it is true; returns how long that took (ms), or fails after `timeoutMs`. */
async function timeUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe.skipIf(!redisUrl || !postgresUrl)(
  `provider and route changes reach a gateway in another process through Redis${reason}`,
  { timeout: 120_000 },
  () => {
    /** An upstream whose model list a test changes (the fake reads this array on every listing). */
    const listed = ['first-model'];
    const upstream = new FakeOpenAIServer({ models: listed });
    let first: TestPlatform;
    let second: AppProcess;
    let secondUrl: string;
    const onSecond = (path: string): Promise<Json> => call(`${secondUrl}${path}`, { token: TEST_MASTER_KEY });
    const providerOnSecond = async (name: string): Promise<Json> =>
      ((await onSecond('/v1/providers')).body.data as Json[]).find((p) => p.name === name);
    const modelsOnSecond = async (): Promise<string[]> =>
      ((await onSecond('/v1/models')).body.data as Json[]).map((m) => m.id as string);

    beforeAll(async () => {
      await upstream.start();
      first = await startPlatform({ databaseKind: 'postgres', env: { REDIS_URL: redisUrl } });
      ({ app: second, url: secondUrl } = await spawnGatewayReplica(first, {
        REDIS_URL: redisUrl,
        MASTER_KEY: TEST_MASTER_KEY,
      }));
    }, 120_000);
    afterAll(async () => {
      await second?.stop();
      await first?.close();
      await upstream.close();
    });

    it('sees a new, changed and deleted provider within a second (not the 30 s safety-net refresh)', async () => {
      const api = adminApi(first);
      const name = unique('replica').toLowerCase();
      const created = await api.post('/api/providers', { name, kind: 'mock', models: ['pinned-model'] });
      expect(created.status).toBe(201);
      expect(await timeUntil(async () => Boolean(await providerOnSecond(name)), 1_000)).toBeLessThan(1_000);
      expect(await providerOnSecond(name)).toMatchObject({ kind: 'mock', source: 'database', enabled: true });
      await timeUntil(async () => (await modelsOnSecond()).includes(`${name}/pinned-model`), 1_000);

      expect((await api.patch(`/api/providers/${created.body.id}`, { enabled: false })).status).toBe(200);
      await timeUntil(async () => (await providerOnSecond(name))?.enabled === false, 1_000);
      expect(await modelsOnSecond()).not.toContain(`${name}/pinned-model`);

      expect((await api.delete(`/api/providers/${created.body.id}`)).status).toBe(204);
      await timeUntil(async () => (await providerOnSecond(name)) === undefined, 1_000);
    });

    it('sees a new route alias within a second', async () => {
      const api = adminApi(first);
      const name = unique('routed').toLowerCase();
      expect((await api.post('/api/providers', { name, kind: 'mock' })).status).toBe(201);
      const alias = unique('replicated');
      const route = await api.post('/api/routes', {
        alias,
        strategy: 'fallback',
        targets: [{ provider: name, model: 'x' }],
      });
      expect(route.status).toBe(201);
      await timeUntil(async () => (await modelsOnSecond()).includes(alias), 1_000);
      expect((await api.delete(`/api/routes/${route.body.id}`)).status).toBe(204);
      await timeUntil(async () => !(await modelsOnSecond()).includes(alias), 1_000);
    });

    it('hears of a model list a discovery on another process found within a second (not the 5-minute refresh)', async () => {
      const api = adminApi(first);
      const name = unique('listing').toLowerCase();
      const created = await api.post('/api/providers', {
        name,
        kind: 'openai-compatible',
        baseUrl: upstream.baseURL,
        apiKey: 'sk-upstream-listing',
      });
      expect(created.status).toBe(201);
      await timeUntil(async () => (await modelsOnSecond()).includes(`${name}/first-model`), 5_000);

      // The upstream's list changes; the gateway in this process is asked to discover it again.
      listed.splice(0, listed.length, 'second-model');
      const refreshed = await call(`${first.gatewayUrl}/v1/providers/${name}/models?refresh=true`, {
        token: TEST_MASTER_KEY,
      });
      expect(refreshed.status).toBe(200);
      expect(
        await timeUntil(async () => (await modelsOnSecond()).includes(`${name}/second-model`), 1_000),
      ).toBeLessThan(1_000);
      expect(await modelsOnSecond()).not.toContain(`${name}/first-model`);

      // The same from the admin API's discovery.
      listed.splice(0, listed.length, 'third-model');
      expect((await api.get(`/api/providers/${created.body.id}/models`)).status).toBe(200);
      await timeUntil(async () => (await modelsOnSecond()).includes(`${name}/third-model`), 1_000);
      expect(await modelsOnSecond()).not.toContain(`${name}/second-model`);
    });
  },
);
