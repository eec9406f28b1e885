import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppConfig, AppConfigModule, loadConfig, resolveSecrets } from '@app/config';
import {
  DATABASE,
  Database,
  DbModule,
  PostgresDriver,
  type UsageRow,
  UsageRepository,
  createPrismaClient,
  databaseRegistry,
} from '@app/db';
import { RedisModule } from '@app/server';
import { createTestDatabase, hasTestPostgres, type TestDatabase } from '@app/testing';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { UsageModule } from '../usage.module';
import type { UsageOptions } from '../usage.options';
import { UsageBacklogHealthIndicator } from './usage-backlog.health';
import { UsageWriter } from './usage-writer';
import { toUsageRow } from './usage-row';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];

interface Booted {
  module: TestingModule;
  writer: UsageWriter;
  metrics: GatewayMetrics;
  database: Database;
  config: AppConfig;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The real UsageModule over a database of its own (or `database` instead of it). */
async function boot(
  kind: 'pglite' | 'postgres',
  options: Partial<UsageOptions> = {},
  database?: Database,
): Promise<Booted> {
  const testDb: TestDatabase = await createTestDatabase(kind);
  cleanups.push(() => testDb.drop());
  const config = resolveSecrets(loadConfig({ NODE_ENV: 'test', SHUTDOWN_TIMEOUT_MS: '300', ...testDb.env }));
  let builder = Test.createTestingModule({
    imports: [AppConfigModule.forRoot(config), DbModule.forRoot(), RedisModule, UsageModule.forRoot(options)],
  });
  if (database) builder = builder.overrideProvider(DATABASE).useValue(database);
  const module = await builder.compile();
  module.useLogger(false);
  await module.init();
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await module.close();
  });
  const close = module.close.bind(module);
  module.close = async () => {
    closed = true;
    await close();
  };
  return {
    module,
    config,
    writer: module.get(UsageWriter),
    metrics: module.get(GatewayMetrics),
    database: module.get(DATABASE),
  };
}

function row(overrides: Partial<UsageRow> = {}): UsageRow {
  return {
    eventId: randomUUID(),
    requestId: randomUUID(),
    createdAt: new Date('2026-03-01T23:30:00Z'),
    teamId: null,
    apiKeyId: null,
    agentId: null,
    sessionId: null,
    userId: null,
    endpoint: 'chat',
    provider: 'openai',
    modelRequested: 'gpt-4o',
    modelServed: 'gpt-4o',
    routeAlias: null,
    promptTokens: 100,
    completionTokens: 50,
    cachedTokens: 10,
    costUsd: 0.00125,
    latencyMs: 200,
    ttftMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    fallbackCount: 0,
    retryCount: 0,
    discarded: false,
    ...overrides,
  };
}

async function metricValue(
  metrics: GatewayMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  const values = (await metric!.get()).values;
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

interface Sums {
  requests: number;
  errors: number;
  prompt: number;
  completion: number;
  cached: number;
  cost: number;
}

async function sums(database: Database, sql: string): Promise<Sums> {
  const [r] = await database.driver.query<Record<string, unknown>>(sql);
  return {
    requests: Number(r.requests),
    errors: Number(r.errors),
    prompt: Number(r.prompt),
    completion: Number(r.completion),
    cached: Number(r.cached),
    cost: Number(r.cost),
  };
}

const RECORD_SUMS = `SELECT count(*) AS requests, count(*) FILTER (WHERE status >= 400) AS errors, sum(prompt_tokens) AS prompt,
  sum(completion_tokens) AS completion, sum(cached_tokens) AS cached, sum(cost_usd) AS cost FROM usage_records`;
const rollupSums = (
  table: string,
) => `SELECT sum(requests) AS requests, sum(errors) AS errors, sum(prompt_tokens) AS prompt,
  sum(completion_tokens) AS completion, sum(cached_tokens) AS cached, sum(cost_usd) AS cost FROM ${table}`;

describe.each(kinds)('usage writer on %s', (kind) => {
  it('writes in batches and keeps the hourly and daily rollups equal to the records', async () => {
    const { writer, database, metrics } = await boot(kind, { batchSize: 100 });
    const team = randomUUID();
    const hours = ['2026-03-01T22:10:00Z', '2026-03-01T23:59:59.999Z', '2026-03-02T00:00:00Z'];
    for (let i = 0; i < 1050; i++) {
      writer.enqueue(
        row({ createdAt: new Date(hours[i % 3]), teamId: i % 2 ? team : null, status: i % 10 === 0 ? 502 : 200 }),
      );
    }
    expect(writer.state.queued).toBe(1050);
    await writer.flush();
    expect(writer.state.queued).toBe(0);
    const records = await sums(database, RECORD_SUMS);
    expect(records).toMatchObject({ requests: 1050, errors: 105, prompt: 105_000 });
    expect(await sums(database, rollupSums('usage_hourly'))).toEqual(records);
    expect(await sums(database, rollupSums('usage_daily'))).toEqual(records);
    const hourly = await database.driver.query<{ bucket: Date; team_id: string; requests: number }>(
      `SELECT bucket, team_id, requests FROM usage_hourly ORDER BY bucket, team_id`,
    );
    expect(hourly.map((h) => [h.bucket.toISOString(), h.team_id, Number(h.requests)])).toEqual([
      ['2026-03-01T22:00:00.000Z', '', 175],
      ['2026-03-01T22:00:00.000Z', team, 175],
      ['2026-03-01T23:00:00.000Z', '', 175],
      ['2026-03-01T23:00:00.000Z', team, 175],
      ['2026-03-02T00:00:00.000Z', '', 175],
      ['2026-03-02T00:00:00.000Z', team, 175],
    ]);
    const days = await database.driver.query<{ bucket: Date }>(
      `SELECT DISTINCT bucket FROM usage_daily ORDER BY bucket`,
    );
    expect(days.map((d) => d.bucket.toISOString())).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z']);
    expect(await metricValue(metrics, 'llm_gateway_usage_rows_written_total')).toBe(1050);
    expect(await metricValue(metrics, 'llm_gateway_usage_queue_depth')).toBe(0);
  });

  it('never counts an event twice (a retried batch, a row twice in a batch), but keeps requests sharing an x-request-id', async () => {
    const { module, database } = await boot(kind);
    const repository = module.get(UsageRepository);
    const batch = [row(), row(), row()];
    expect(await repository.insertUsageBatch([...batch, batch[0]])).toEqual({ inserted: 3 });
    expect(await repository.insertUsageBatch(batch)).toEqual({ inserted: 0 });
    expect(await repository.insertUsageBatch([batch[1], row()])).toEqual({ inserted: 1 });
    // A client may send the same x-request-id twice: two requests, two rows.
    expect(await repository.insertUsageBatch([row({ requestId: batch[2].requestId })])).toEqual({ inserted: 1 });
    const records = await sums(database, RECORD_SUMS);
    expect(records.requests).toBe(5);
    expect(await sums(database, rollupSums('usage_hourly'))).toEqual(records);
    expect(await sums(database, rollupSums('usage_daily'))).toEqual(records);
  });

  it('stores every field of a row in its own column, nulls as nulls', async () => {
    const { module } = await boot(kind);
    const repository = module.get(UsageRepository);
    const full = row({
      createdAt: new Date('2026-03-01T23:30:12.345Z'),
      teamId: randomUUID(),
      apiKeyId: randomUUID(),
      agentId: 'support-agent',
      sessionId: randomUUID(),
      userId: randomUUID(),
      endpoint: 'messages',
      provider: 'anthropic',
      modelRequested: 'fast',
      modelServed: 'claude-3-5-haiku',
      routeAlias: 'fast',
      promptTokens: 101,
      completionTokens: 52,
      cachedTokens: 13,
      costUsd: 0.00012346,
      latencyMs: 204,
      ttftMs: 35,
      stream: true,
      status: 502,
      errorCode: 'upstream_error',
      fallbackCount: 2,
      retryCount: 3,
    });
    const sparse = row({ modelServed: null, provider: null });
    expect(await repository.insertUsageBatch([full, sparse])).toEqual({ inserted: 2 });
    expect(await repository.findUsageRecordByRequestId(full.requestId)).toEqual({
      ...full,
      id: expect.any(String),
      totalTokens: 153,
    });
    expect(await repository.findUsageRecordByRequestId(sparse.requestId)).toEqual({
      ...sparse,
      id: expect.any(String),
      totalTokens: 150,
    });
  });

  it('stores the row made of an event the database would refuse as it is: an unpaired surrogate, counts at the bound', async () => {
    const { module } = await boot(kind);
    const repository = module.get(UsageRepository);
    const made = toUsageRow(
      {
        requestId: randomUUID(),
        startedAt: new Date('2026-03-01T23:30:00Z'),
        endpoint: 'chat',
        teamId: null,
        apiKeyId: null,
        provider: 'openai',
        modelRequested: 'gpt\udc00',
        modelServed: 'served\ud800',
        usage: { promptTokens: 2_147_483_647, completionTokens: 5, cachedTokens: 0 },
        latencyMs: 1,
        stream: false,
        status: 200,
        fallbackCount: 0,
        retryCount: 0,
      },
      0,
    );
    expect(await repository.insertUsageBatch([made])).toEqual({ inserted: 1 });
    expect(await repository.findUsageRecordByRequestId(made.requestId)).toMatchObject({
      modelRequested: 'gpt\ufffd',
      modelServed: 'served\ufffd',
      promptTokens: 2_147_483_647,
      completionTokens: 0,
      totalTokens: 2_147_483_647,
    });
  });

  it('drops only the row the database refuses, and counts it', async () => {
    const { writer, database, metrics } = await boot(kind);
    const good = Array.from({ length: 9 }, () => row());
    for (const r of good.slice(0, 4)) writer.enqueue(r);
    writer.enqueue(row({ teamId: 'not-a-uuid' }));
    for (const r of good.slice(4)) writer.enqueue(r);
    await writer.flush();
    const stored = await database.driver.query<{ request_id: string }>('SELECT request_id FROM usage_records');
    expect(stored.map((r) => r.request_id).sort()).toEqual(good.map((r) => r.requestId).sort());
    expect(await metricValue(metrics, 'llm_gateway_usage_rows_dropped_total', { reason: 'rejected' })).toBe(1);
  });

  it('writes everything still queued on shutdown, before the database is released', async () => {
    const { module, writer, config } = await boot(kind, { flushIntervalMs: 60_000 });
    // A second reference keeps the shared database open after the module releases its own.
    const database = await databaseRegistry.acquire(config.database);
    try {
      for (let i = 0; i < 3000; i++) writer.enqueue(row());
      await module.close();
      const [{ n }] = await database.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_records');
      expect(n).toBe(3000);
    } finally {
      await databaseRegistry.release(database);
    }
  });
});

describe('usage writer while the database is unreachable', () => {
  it('keeps rows in memory up to the bound, counts the overflow, reports readiness down, and counts what shutdown could not write', async () => {
    // A real PostgreSQL client pointed at a port where nothing listens.
    const driver = PostgresDriver.create('postgresql://nobody@127.0.0.1:9/nothing', { max: 2 });
    const unreachable = new Database(createPrismaClient(driver), driver, undefined);
    const { module, writer, metrics } = await boot(
      'pglite',
      { maxQueue: 100, backlogReadyThreshold: 50, flushIntervalMs: 20, retryMinMs: 10, retryMaxMs: 40 },
      unreachable,
    );
    cleanups.push(() => driver.close());
    for (let i = 0; i < 130; i++) writer.enqueue(row());
    expect(writer.state.queued).toBe(100);
    expect(await metricValue(metrics, 'llm_gateway_usage_rows_dropped_total', { reason: 'overflow' })).toBe(30);
    await expect(writer.flush()).rejects.toThrow(/could not be written/);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(writer.state.failingSince).toBeInstanceOf(Date);
    expect(await metricValue(metrics, 'llm_gateway_usage_write_failures_total')).toBeGreaterThanOrEqual(2);
    const health = await module.get(UsageBacklogHealthIndicator).check();
    expect(health.usageWriter).toMatchObject({ status: 'down', queued: 100, threshold: 50 });

    await module.close();
    expect(await metricValue(metrics, 'llm_gateway_usage_rows_dropped_total', { reason: 'shutdown' })).toBe(100);
    expect(writer.enqueue(row())).toBe(false);
  });
});
