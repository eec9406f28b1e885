import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestPostgres } from '@app/testing';
import { GatewayEvents, GatewayMetrics, USAGE_OPTIONS, type UsageOptions, UsageRecorder } from '@app/usage';
import { openEventStream } from '../support/event-stream';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { parsePrometheusText, sampleSum } from '../support/prometheus';
import { call, createKey, createTeam } from '../support/tenancy';
import { usageEvent } from '../support/usage';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];

async function scrape(platform: TestPlatform) {
  return parsePrometheusText(await (await fetch(`${platform.gatewayUrl}/metrics`)).text());
}

describe.each(kinds)('the event stream GET /v1/events/stream (%s)', (kind) => {
  let platform: TestPlatform;
  let recorder: UsageRecorder;
  let memberKey: { id: string; key: string };

  beforeAll(async () => {
    platform = await startPlatform({ databaseKind: kind });
    recorder = platform.gateway!.app.get(UsageRecorder);
    memberKey = await createKey(platform, await createTeam(platform));
  });
  afterAll(() => platform?.close());

  it('streams events over SSE to the master key only, with heartbeats and a type filter', async () => {
    expect((await call(`${platform.gatewayUrl}/v1/events/stream`)).status).toBe(401);
    const member = await call(`${platform.gatewayUrl}/v1/events/stream`, { token: memberKey.key });
    expect(member.status).toBe(403);
    expect(member.body.error.code).toBe('permission_denied');
    const bad = await call(`${platform.gatewayUrl}/v1/events/stream?types=generation_completed,nope`, {
      token: TEST_MASTER_KEY,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/unknown event type nope/);

    const options = platform.gateway!.app.get<UsageOptions>(USAGE_OPTIONS);
    const heartbeatMs = options.heartbeatMs;
    options.heartbeatMs = 100;
    const all = await openEventStream(`${platform.gatewayUrl}/v1/events/stream`, TEST_MASTER_KEY);
    const onlyFallbacks = await openEventStream(
      `${platform.gatewayUrl}/v1/events/stream?types=fallback`,
      TEST_MASTER_KEY,
    );
    options.heartbeatMs = heartbeatMs;
    try {
      expect(all.status).toBe(200);
      expect(all.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const event = usageEvent({
        usage: { promptTokens: 1000, completionTokens: 500, cachedTokens: 0 },
        latencyMs: 321,
      });
      recorder.record(event);
      platform
        .gateway!.app.get(GatewayEvents)
        .emit({ type: 'fallback', at: new Date().toISOString(), data: { from: 'openai', to: 'anthropic' } });
      const completed = await all.waitFor((e) => e.requestId === event.requestId);
      expect(completed).toMatchObject({
        type: 'generation_completed',
        requestId: event.requestId,
        data: {
          promptTokens: 1000,
          completionTokens: 500,
          totalTokens: 1500,
          costUsd: 0.0075,
          latencyMs: 321,
          status: 200,
        },
      });
      await all.waitFor((e) => e.type === 'fallback');
      await onlyFallbacks.waitFor((e) => e.type === 'fallback');
      expect(onlyFallbacks.events.every((e) => e.type === 'fallback')).toBe(true);
      await all.waitForComment(/^heartbeat /, 2_000);
    } finally {
      all.close();
      onlyFallbacks.close();
    }
  });

  it('drops a subscriber that stops reading instead of buffering without bound or slowing the gateway', async () => {
    const options = platform.gateway!.app.get<UsageOptions>(USAGE_OPTIONS);
    const metrics = platform.gateway!.app.get(GatewayMetrics);
    const bound = options.eventBufferBytes;
    options.eventBufferBytes = 64 * 1024;
    const droppedBefore = sampleSum(await scrape(platform), 'llm_gateway_event_subscribers_dropped_total');
    // A client that opens the stream and never reads from it.
    const url = new URL(`${platform.gatewayUrl}/v1/events/stream`);
    const closed = new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
        },
        (res) => {
          res.pause();
          res.socket.on('close', () => resolve());
        },
      );
      req.on('error', reject);
      req.end();
    });
    try {
      await expect
        .poll(() =>
          metrics.registry
            .getSingleMetric('llm_gateway_event_subscribers')
            ?.get()
            .then((m) => m.values[0]?.value),
        )
        .toBe(1);
      const events = platform.gateway!.app.get(GatewayEvents);
      const padding = 'x'.repeat(16 * 1024);
      const started = performance.now();
      for (let i = 0; i < 2_000; i++)
        events.emit({ type: 'tool_started', at: new Date().toISOString(), data: { i, padding } });
      // 32 MB offered to a reader that takes none: emitting stays fast, the subscriber is cut.
      expect(performance.now() - started).toBeLessThan(2_000);
      await closed;
      const after = sampleSum(await scrape(platform), 'llm_gateway_event_subscribers_dropped_total');
      expect(after - droppedBefore).toBe(1);
      expect(sampleSum(await scrape(platform), 'llm_gateway_event_subscribers')).toBe(0);
    } finally {
      options.eventBufferBytes = bound;
    }
  });
});

describe('the event stream during a graceful shutdown', () => {
  it('ends open streams when the server stops accepting, so shutdown does not wait for them', async () => {
    const platform = await startPlatform({ apps: ['gateway'] });
    const stream = await openEventStream(`${platform.gatewayUrl}/v1/events/stream`, TEST_MASTER_KEY);
    expect(stream.status).toBe(200);
    const started = performance.now();
    // In-flight requests get SHUTDOWN_TIMEOUT_MS (2 s in tests); an open stream must not use it up.
    await platform.close();
    await stream.ended;
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
