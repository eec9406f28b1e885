import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageRepository, openDatabase } from '@app/db';
import { createTestDatabase, hasTestPostgres } from '@app/testing';
import { GatewayMetrics, StatusService, type UsageEvent, UsageRecorder, UsageWriter } from '@app/usage';
import { usageEvent } from '../support/usage';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { parsePrometheusText, sampleSum } from '../support/prometheus';
import { call, createKey, createTeam } from '../support/tenancy';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];

async function scrape(platform: TestPlatform) {
  const res = await fetch(`${platform.gatewayUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  return { text, families: parsePrometheusText(text) };
}

describe.each(kinds)('usage, metrics and status on the gateway (%s)', (kind) => {
  let platform: TestPlatform;
  let recorder: UsageRecorder;
  let writer: UsageWriter;
  let teamId: string;
  let memberKey: { id: string; key: string };

  beforeAll(async () => {
    platform = await startPlatform({ databaseKind: kind });
    recorder = platform.gateway!.app.get(UsageRecorder);
    writer = platform.gateway!.app.get(UsageWriter);
    teamId = await createTeam(platform);
    memberKey = await createKey(platform, teamId);
  });
  afterAll(() => platform?.close());

  it('writes rows for JSON, streamed, failed and client-aborted requests with their tokens and cost', async () => {
    const cases: Array<{ event: UsageEvent; cost: number }> = [
      {
        // 800 uncached at $2.50 + 200 cached at $1.25 + 500 out at $10 per million (a dated release priced as gpt-4o)
        event: usageEvent({
          teamId,
          apiKeyId: memberKey.id,
          usage: { promptTokens: 1000, completionTokens: 500, cachedTokens: 200 },
        }),
        cost: 0.00725,
      },
      {
        event: usageEvent({
          teamId,
          apiKeyId: memberKey.id,
          endpoint: 'messages',
          provider: 'anthropic',
          modelRequested: 'claude-3-5-haiku-latest',
          modelServed: 'claude-3-5-haiku-20241022',
          stream: true,
          ttftMs: 150,
          usage: { promptTokens: 2000, completionTokens: 300, cachedTokens: 0 },
        }),
        cost: 0.0028,
      },
      {
        event: usageEvent({
          teamId,
          modelServed: null,
          status: 502,
          errorCode: 'upstream_error',
          usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
          retryCount: 2,
          fallbackCount: 1,
        }),
        cost: 0,
      },
      {
        // The client went away mid-stream: what was generated so far is still paid for.
        event: usageEvent({
          teamId,
          provider: 'gemini',
          modelRequested: 'gemini-2.5-flash',
          modelServed: 'models/gemini-2.5-flash',
          stream: true,
          status: 499,
          errorCode: 'client_closed_request',
          ttftMs: 90,
          usage: { promptTokens: 500, completionTokens: 40, cachedTokens: 0 },
        }),
        cost: 0.00025,
      },
      {
        event: usageEvent({ provider: 'ollama', modelRequested: 'ollama/llama3:8b', modelServed: 'llama3:8b' }),
        cost: 0,
      },
    ];
    for (const { event, cost } of cases) expect(recorder.record(event).costUsd).toBeCloseTo(cost, 10);
    await writer.flush();

    const usage = platform.gateway!.app.get(UsageRepository);
    for (const { event, cost } of cases) {
      const row = await usage.findUsageRecordByRequestId(event.requestId);
      expect(row).toMatchObject({
        teamId: event.teamId,
        endpoint: event.endpoint,
        provider: event.provider,
        modelRequested: event.modelRequested,
        modelServed: event.modelServed,
        promptTokens: event.usage.promptTokens,
        completionTokens: event.usage.completionTokens,
        cachedTokens: event.usage.cachedTokens,
        totalTokens: event.usage.promptTokens + event.usage.completionTokens,
        stream: event.stream,
        status: event.status,
        errorCode: event.errorCode,
        ttftMs: event.ttftMs,
        retryCount: event.retryCount,
        fallbackCount: event.fallbackCount,
      });
      expect(row!.costUsd).toBeCloseTo(cost, 10);
    }
  });

  it('serves /metrics as valid Prometheus text whose counters move, with bounded labels', async () => {
    const metrics = platform.gateway!.app.get(GatewayMetrics);
    const before = await scrape(platform);
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_total_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(before.families.has(name), name).toBe(true);
    }
    recorder.record(usageEvent({ usage: { promptTokens: 1000, completionTokens: 100, cachedTokens: 0 } }));
    recorder.record(
      usageEvent({
        provider: 'made-up-provider',
        modelRequested: 'user-typed-model-42',
        modelServed: null,
        status: 404,
      }),
    );
    const end = metrics.requestStarted('chat');
    metrics.observeUpstream('openai', 'gpt-4o', 420, 80);
    metrics.countRetry('openai');
    metrics.countFallback('openai', 'anthropic');
    metrics.setCircuitState('anthropic', 'open');
    await call(`${platform.gatewayUrl}/v1/status`, { token: TEST_MASTER_KEY });

    const after = await scrape(platform);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleSum(after.families, name, labels) - sampleSum(before.families, name, labels);
    expect(
      delta('llm_gateway_requests_total', { route: 'chat', status: '200', provider: 'openai', model: 'gpt-4o' }),
    ).toBe(1);
    expect(delta('llm_gateway_requests_total', { status: '404', provider: 'other', model: 'other' })).toBe(1);
    expect(delta('llm_gateway_tokens_total', { provider: 'openai', model: 'gpt-4o', type: 'prompt' })).toBe(1000);
    expect(delta('llm_gateway_cost_usd_total', { provider: 'openai', model: 'gpt-4o' })).toBeCloseTo(0.0035, 10);
    expect(sampleSum(after.families, 'llm_gateway_requests_in_flight', { route: 'chat' })).toBe(1);
    expect(delta('llm_gateway_upstream_latency_seconds_count', { provider: 'openai', model: 'gpt-4o' })).toBe(1);
    expect(delta('llm_gateway_time_to_first_token_seconds_count', { provider: 'openai', model: 'gpt-4o' })).toBe(1);
    expect(delta('llm_gateway_upstream_retries_total', { provider: 'openai' })).toBe(1);
    expect(delta('llm_gateway_fallbacks_total', { from: 'openai', to: 'anthropic' })).toBe(1);
    expect(sampleSum(after.families, 'llm_gateway_circuit_state', { provider: 'anthropic' })).toBe(2);
    expect(delta('llm_gateway_http_requests_total', { method: 'GET', route: '/v1/status', status: '200' })).toBe(1);
    expect(after.families.get('llm_gateway_usage_queue_depth')?.type).toBe('gauge');
    expect(after.families.get('llm_gateway_usage_rows_dropped_total')?.type).toBe('counter');
    // No client-chosen string ever becomes a label value.
    expect(after.text).not.toContain('user-typed-model-42');
    expect(after.text).not.toContain('made-up-provider');
    end();
    end();
    expect(sampleSum((await scrape(platform)).families, 'llm_gateway_requests_in_flight', { route: 'chat' })).toBe(0);
  });

  it('reports status to any key: version, uptime, request totals, sessions and registered providers', async () => {
    expect((await call(`${platform.gatewayUrl}/v1/status`)).status).toBe(401);
    const unregister = platform.gateway!.app.get(StatusService).registerProviderSource(() => [
      {
        name: 'openai',
        kind: 'openai',
        enabled: true,
        state: 'up',
        circuit: 'closed',
        models: ['gpt-4o', 'gpt-4o-mini'],
      },
    ]);
    try {
      const res = await call(`${platform.gatewayUrl}/v1/status`, { token: memberKey.key });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        uptimeSeconds: expect.any(Number),
        requests: { total: expect.any(Number), errors: expect.any(Number), inFlight: expect.any(Number) },
        sessions: { total: 0, activeLast24h: 0 },
        // The provider registry's own source (the built-in mock provider) is listed too.
        providers: expect.arrayContaining([
          {
            name: 'openai',
            kind: 'openai',
            enabled: true,
            state: 'up',
            circuit: 'closed',
            models: ['gpt-4o', 'gpt-4o-mini'],
          },
        ]),
      });
      expect(res.body.requests.total).toBeGreaterThanOrEqual(5);

      // A key allowed some models sees the providers and models it may use, not the whole configuration.
      const narrow = await createKey(platform, teamId, { allowedModels: ['openai/gpt-4o'] });
      const seen = await call(`${platform.gatewayUrl}/v1/status`, { token: narrow.key });
      expect(seen.status).toBe(200);
      expect(seen.body.providers).toEqual([expect.objectContaining({ name: 'openai', models: ['gpt-4o'] })]);
      // A bare name shows where it names one provider's model alone: the mock's echo-1, not gpt-4o-mini if two serve it.
      const bare = await createKey(platform, teamId, { allowedModels: ['echo-1'] });
      const bareSeen = await call(`${platform.gatewayUrl}/v1/status`, { token: bare.key });
      expect(bareSeen.body.providers).toEqual([expect.objectContaining({ name: 'mock', models: ['echo-1'] })]);
      const twice = platform
        .gateway!.app.get(StatusService)
        .registerProviderSource(() => [
          { name: 'other', kind: 'openai', enabled: true, state: 'up', circuit: 'closed', models: ['echo-1'] },
        ]);
      try {
        const ambiguous = await call(`${platform.gatewayUrl}/v1/status`, { token: bare.key });
        expect(ambiguous.body.providers).toEqual([]);
      } finally {
        twice();
      }
      const master = await call(`${platform.gatewayUrl}/v1/status`, { token: TEST_MASTER_KEY });
      expect(master.body.providers.length).toBeGreaterThan(1);
    } finally {
      unregister();
    }
  });

  it('includes the usage writer backlog in readiness', async () => {
    const res = await call(`${platform.gatewayUrl}/health/ready`);
    expect(res.status).toBe(200);
    expect(res.body.details.usageWriter).toMatchObject({ status: 'up', queued: expect.any(Number), threshold: 20_000 });
  });
});

describe.each(kinds)('graceful shutdown under load (%s)', (kind) => {
  it('loses no usage row: everything recorded before close is in the database', async () => {
    // The test owns the database, so close() leaves it for counting.
    const database = await createTestDatabase(kind);
    const platform = await startPlatform({ database, apps: ['gateway'] });
    const recorder = platform.gateway!.app.get(UsageRecorder);
    const total = 25_000;
    const ids: string[] = [];
    try {
      // Requests finishing in bursts while the writer flushes concurrently, then the shutdown.
      for (let burst = 0; burst < 40; burst++) {
        for (let i = 0; i < 500; i++) {
          const event = usageEvent({ startedAt: new Date(Date.now() - burst * 3_600_000) });
          ids.push(event.requestId);
          recorder.record(event);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The last requests finish just as the shutdown begins.
      for (let i = 0; i < 5_000; i++) {
        const event = usageEvent();
        ids.push(event.requestId);
        recorder.record(event);
      }
      expect(platform.gateway!.app.get(UsageWriter).state.queued).toBeGreaterThanOrEqual(5_000);
      await platform.close();

      const reopened = await openDatabase({ ...platform.config.database, migrate: false });
      try {
        const [counts] = await reopened.driver.query<{ n: number; hourly: number; daily: number }>(
          `SELECT (SELECT count(*)::int FROM usage_records) AS n, (SELECT sum(requests)::int FROM usage_hourly) AS hourly,
                  (SELECT sum(requests)::int FROM usage_daily) AS daily`,
        );
        expect(counts).toEqual({ n: total, hourly: total, daily: total });
        const sample = ids.filter((_, i) => i % 997 === 0);
        const found = await reopened.driver.query('SELECT request_id FROM usage_records WHERE request_id = ANY($1)', [
          sample,
        ]);
        expect(found).toHaveLength(sample.length);
      } finally {
        await reopened.close();
      }
    } finally {
      await database.drop();
    }
  });
});
