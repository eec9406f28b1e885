import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE, type Database } from '@app/db';
import { TEMPLATE_ENV, createTestDatabase, hasTestPostgres, type TestDatabase, withServer } from '@app/testing';
import { USAGE_OPTIONS, type UsageOptions, UsageRecorder, UsageWriter } from '@app/usage';
import { openEventStream } from '../support/event-stream';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { parsePrometheusText, sampleSum } from '../support/prometheus';
import { type AppProcess, spawnGatewayReplica } from '../support/process';
import { type Json, adminApi, call, unique } from '../support/tenancy';
import { usageEvent } from '../support/usage';

const redisUrl = process.env.TEST_REDIS_URL;

async function counts(platform: TestPlatform): Promise<{ records: number; hourly: number; daily: number }> {
  const database = platform.gateway!.app.get<Database>(DATABASE);
  const [row] = await database.driver.query<{ records: number; hourly: number | null; daily: number | null }>(
    `SELECT (SELECT count(*)::int FROM usage_records) AS records, (SELECT sum(requests)::int FROM usage_hourly) AS hourly,
            (SELECT sum(requests)::int FROM usage_daily) AS daily`,
  );
  return { records: row.records, hourly: row.hourly ?? 0, daily: row.daily ?? 0 };
}

describe.skipIf(!hasTestPostgres())(
  `usage writer through a PostgreSQL outage${hasTestPostgres() ? '' : ' (skipped: TEST_DATABASE_URL is not set)'}`,
  () => {
    let database: TestDatabase;
    let platform: TestPlatform;
    const serverUrl = process.env[TEMPLATE_ENV.serverUrl]!;
    const name = () => new URL(database.url!).pathname.slice(1);
    const setConnections = (allowed: boolean) =>
      withServer(serverUrl, async (client) => {
        await client.query(`ALTER DATABASE "${name()}" WITH ALLOW_CONNECTIONS ${allowed}`);
        if (!allowed)
          await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name()]);
      });

    beforeAll(async () => {
      database = await createTestDatabase('postgres');
      platform = await startPlatform({ database, apps: ['gateway'] });
      const options = platform.gateway!.app.get<UsageOptions>(USAGE_OPTIONS);
      options.retryMaxMs = 500;
      options.flushIntervalMs = 200;
    });
    afterAll(async () => {
      await setConnections(true).catch(() => undefined);
      await platform?.close();
      await database?.drop();
    });

    it('keeps rows in memory while the database is unreachable, never blocks recording, and catches up when it returns', async () => {
      const recorder = platform.gateway!.app.get(UsageRecorder);
      const writer = platform.gateway!.app.get(UsageWriter);
      for (let i = 0; i < 100; i++) recorder.record(usageEvent());
      await writer.flush();
      expect(await counts(platform)).toEqual({ records: 100, hourly: 100, daily: 100 });

      await setConnections(false);
      const started = performance.now();
      for (let i = 0; i < 2_000; i++) recorder.record(usageEvent({ status: i % 10 ? 200 : 429 }));
      expect(performance.now() - started).toBeLessThan(1_000);
      await expect.poll(() => writer.state.failingSince, { timeout: 10_000 }).toBeInstanceOf(Date);
      expect(writer.state.queued).toBe(2_000);

      const ready = await call(`${platform.gatewayUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.details.database.status).toBe('down');
      expect(ready.body.details.usageWriter).toMatchObject({ status: 'degraded', queued: 2_000 });
      const metrics = parsePrometheusText(await (await fetch(`${platform.gatewayUrl}/metrics`)).text());
      expect(sampleSum(metrics, 'llm_gateway_usage_queue_depth')).toBe(2_000);
      expect(sampleSum(metrics, 'llm_gateway_usage_write_failures_total')).toBeGreaterThan(0);
      expect(sampleSum(metrics, 'llm_gateway_usage_rows_dropped_total')).toBe(0);

      await setConnections(true);
      await expect.poll(() => writer.state.queued, { timeout: 15_000, interval: 100 }).toBe(0);
      expect(writer.state.failingSince).toBeUndefined();
      expect(await counts(platform)).toEqual({ records: 2_100, hourly: 2_100, daily: 2_100 });
      expect((await call(`${platform.gatewayUrl}/health/ready`)).status).toBe(200);
    });
  },
);

describe.skipIf(!redisUrl)(
  `events across two gateway processes through Redis${redisUrl ? '' : ' (skipped: TEST_REDIS_URL is not set)'}`,
  () => {
    let database: TestDatabase;
    let first: TestPlatform;
    let second: TestPlatform;

    beforeAll(async () => {
      database = await createTestDatabase();
      first = await startPlatform({ database, apps: ['gateway'], env: { REDIS_URL: redisUrl } });
      second = await startPlatform({ database, apps: ['gateway'], env: { REDIS_URL: redisUrl } });
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
      await database?.drop();
    });

    it('delivers events recorded on either replica to an SSE client of the first, each exactly once', async () => {
      const client = await openEventStream(
        `${first.gatewayUrl}/v1/events/stream?types=generation_completed`,
        TEST_MASTER_KEY,
      );
      try {
        expect(client.status).toBe(200);
        const remote = usageEvent({ usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 0 } });
        const local = usageEvent();
        second.gateway!.app.get(UsageRecorder).record(remote);
        first.gateway!.app.get(UsageRecorder).record(local);
        const received = await client.waitFor((e) => e.requestId === remote.requestId);
        expect(received).toMatchObject({
          type: 'generation_completed',
          data: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
        });
        await client.waitFor((e) => e.requestId === local.requestId);
        // Give a duplicate (own event coming back through Redis) time to show up.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const ids = client.events.map((e) => e.requestId);
        expect(ids.filter((id) => id === local.requestId)).toHaveLength(1);
        expect(ids.filter((id) => id === remote.requestId)).toHaveLength(1);
      } finally {
        client.close();
      }
    });

    it('writes each replica its own rows into the shared database without double counting', async () => {
      await Promise.all([first, second].map((p) => p.gateway!.app.get(UsageWriter).flush()));
      const before = await counts(first);
      const events = Array.from({ length: 200 }, () => usageEvent());
      events.forEach((event, i) => (i % 2 ? first : second).gateway!.app.get(UsageRecorder).record(event));
      await Promise.all([first, second].map((p) => p.gateway!.app.get(UsageWriter).flush()));
      const after = await counts(first);
      expect(after.records - before.records).toBe(200);
      expect(after.hourly).toBe(after.records);
      expect(after.daily).toBe(after.records);
    });
  },
);

describe.skipIf(!redisUrl || !hasTestPostgres())(
  `price edits reach a gateway in another process through Redis${redisUrl && hasTestPostgres() ? '' : ' (skipped: needs TEST_DATABASE_URL and TEST_REDIS_URL)'}`,
  { timeout: 120_000 },
  () => {
    let first: TestPlatform;
    let second: AppProcess;
    let secondUrl: string;

    beforeAll(async () => {
      first = await startPlatform({ databaseKind: 'postgres', apps: ['admin'], env: { REDIS_URL: redisUrl } });
      ({ app: second, url: secondUrl } = await spawnGatewayReplica(first, {
        REDIS_URL: redisUrl,
        MASTER_KEY: TEST_MASTER_KEY,
      }));
    }, 120_000);
    afterAll(async () => {
      await second?.stop();
      await first?.close();
    });

    /** One chat request through the other process; resolves with its stored row (the writer flushes within a second). */
    async function costOnSecond(model: string): Promise<number> {
      const requestId = randomUUID();
      const res = await call(`${secondUrl}/v1/chat/completions`, {
        token: TEST_MASTER_KEY,
        headers: { 'x-request-id': requestId },
        body: { model, messages: [{ role: 'user', content: 'Hello there' }] },
      });
      expect(res.status).toBe(200);
      let row: Json;
      await expect
        .poll(
          async () => {
            const page = await adminApi(first).get(`/api/usage/records?limit=500&provider=${model.split('/')[0]}`);
            row = (page.body.data as Json[]).find((r) => r.requestId === requestId);
            return row;
          },
          { timeout: 5_000, interval: 100 },
        )
        .toBeDefined();
      expect(row.promptTokens + row.completionTokens).toBeGreaterThan(0);
      return (row.costUsd as number) / (row.promptTokens + row.completionTokens);
    }

    it('prices the next request with the edited price at once (not at the one-minute refresh)', async () => {
      const api = adminApi(first);
      const name = unique('priced').toLowerCase();
      expect((await api.post('/api/providers', { name, kind: 'mock', models: ['m1'] })).status).toBe(201);
      await expect
        .poll(
          async () =>
            (await call(`${secondUrl}/v1/models`, { token: TEST_MASTER_KEY })).body.data.map((m: Json) => m.id),
          {
            timeout: 5_000,
          },
        )
        .toContain(`${name}/m1`);
      // A mock-kind provider is priced by `mock/*`: free.
      expect(await costOnSecond(`${name}/m1`)).toBe(0);

      const price = await api.post('/api/pricing', {
        provider: name,
        model: '*',
        inputPerMTok: 1000,
        outputPerMTok: 1000,
      });
      expect(price.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // $1000 per million tokens = $0.001 per token, on the very next request.
      expect(await costOnSecond(`${name}/m1`)).toBeCloseTo(0.001, 10);
    });
  },
);
