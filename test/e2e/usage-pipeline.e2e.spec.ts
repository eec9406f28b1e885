import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@app/db';
import { FakeOpenAIServer, createTestDatabase, hasTestPostgres } from '@app/testing';
import { openEventStream } from '../support/event-stream';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { storedUsageRow } from '../support/usage';
import { parsePrometheusText, sampleSum } from '../support/prometheus';
import { adminApi, createKey, createTeam } from '../support/tenancy';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];
// gpt-4o-mini list price: $0.15 input, $0.075 cached input, $0.60 output per million tokens.
const costOf = (prompt: number, cached: number, completion: number) =>
  ((prompt - cached) * 0.15 + cached * 0.075 + completion * 0.6) / 1e6;

/**
 * Usage as the real request pipeline reports it: official OpenAI SDK -> gateway ->
 * fake OpenAI upstream, then the usage row, the metrics, the event stream and the
 * admin summary are checked against what the client saw.
 */
describe.each(kinds)('usage of real requests through the gateway (%s)', (kind) => {
  const upstream = new FakeOpenAIServer({ apiKey: 'sk-upstream' });
  let platform: TestPlatform;
  let client: OpenAI;
  let teamId: string;

  beforeAll(async () => {
    const baseUrl = await upstream.start();
    platform = await startPlatform({
      databaseKind: kind,
      env: {
        OPENAI_API_KEY: 'sk-upstream',
        OPENAI_BASE_URL: baseUrl,
        UPSTREAM_MAX_RETRIES: '1',
        CIRCUIT_FAILURE_THRESHOLD: '100',
      },
    });
    teamId = await createTeam(platform);
    const { key } = await createKey(platform, teamId);
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await upstream.close();
  });

  const rowOf = (requestId: string) => storedUsageRow(platform, requestId);

  it('JSON: the row has the tokens the client was told and their list-price cost', async () => {
    const requestId = randomUUID();
    const res = await client.chat.completions.create(
      { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Say something short.' }] },
      { headers: { 'x-request-id': requestId } },
    );
    const row = await rowOf(requestId);
    expect(row).toMatchObject({
      teamId,
      endpoint: 'chat',
      provider: 'openai',
      modelRequested: 'openai/gpt-4o-mini',
      stream: false,
      status: 200,
      errorCode: null,
      promptTokens: res.usage!.prompt_tokens,
      completionTokens: res.usage!.completion_tokens,
      totalTokens: res.usage!.total_tokens,
    });
    expect(row.promptTokens).toBeGreaterThan(0);
    expect(row.costUsd).toBeCloseTo(costOf(row.promptTokens, row.cachedTokens, row.completionTokens), 10);
  });

  it('streamed: tokens from the final usage chunk, time to first token recorded, events on the stream', async () => {
    const events = await openEventStream(`${platform.gatewayUrl}/v1/events/stream`, TEST_MASTER_KEY);
    try {
      const requestId = randomUUID();
      const stream = await client.chat.completions.create(
        {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: 'Count to five.' }],
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-request-id': requestId } },
      );
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      const row = await rowOf(requestId);
      expect(row).toMatchObject({
        stream: true,
        status: 200,
        promptTokens: usage!.prompt_tokens,
        completionTokens: usage!.completion_tokens,
      });
      expect(row.ttftMs).toEqual(expect.any(Number));
      expect(row.costUsd).toBeCloseTo(costOf(row.promptTokens, row.cachedTokens, row.completionTokens), 10);
      const completed = await events.waitFor((e) => e.type === 'generation_completed' && e.requestId === requestId);
      expect(completed.data).toMatchObject({
        promptTokens: row.promptTokens,
        completionTokens: row.completionTokens,
        stream: true,
      });
      expect((completed.data as { costUsd: number }).costUsd).toBeCloseTo(row.costUsd, 10);
    } finally {
      events.close();
    }
  });

  it('failed: an upstream that keeps failing leaves a row with the error, no tokens and the retries', async () => {
    upstream.enqueue({ status: 500, times: 2 });
    const requestId = randomUUID();
    const error = await client.chat.completions
      .create(
        { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello?' }] },
        { headers: { 'x-request-id': requestId } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const row = await rowOf(requestId);
    expect(row).toMatchObject({
      status: (error as { status: number }).status,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
      retryCount: 1,
    });
    expect(row.status).toBeGreaterThanOrEqual(500);
    expect(row.errorCode).toEqual(expect.any(String));
  });

  it('client-aborted: a stream the client leaves is recorded as 499', async () => {
    upstream.enqueue({ chunkDelayMs: 150 });
    const requestId = randomUUID();
    const abort = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me a long story.' }], stream: true },
      { headers: { 'x-request-id': requestId }, signal: abort.signal },
    );
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.choices[0]?.delta?.content) {
        abort.abort();
        break;
      }
    }
    expect(chunks).toBeLessThan(5);
    const row = await rowOf(requestId);
    expect(row).toMatchObject({ stream: true, status: 499, errorCode: 'client_closed' });
  });

  it('client-aborted: a JSON request the client leaves while the upstream has it is recorded with its prompt', async () => {
    upstream.enqueue({ delayMs: 3_000 });
    const requestId = randomUUID();
    const abort = new AbortController();
    const pending = client.chat.completions
      .create(
        { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `${requestId} ${'abcd '.repeat(80)}` }] },
        { headers: { 'x-request-id': requestId }, signal: abort.signal },
      )
      .catch((e: unknown) => e);
    await upstream.waitForRequest((r) => r.method === 'POST' && (JSON.stringify(r.body) ?? '').includes(requestId));
    abort.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    const row = await rowOf(requestId);
    // The upstream read the prompt (and bills it): it counts, on the estimate, as for a stream cut short.
    expect(row).toMatchObject({ stream: false, status: 499, errorCode: 'client_closed', completionTokens: 0 });
    expect(row.promptTokens).toBeGreaterThanOrEqual(100);
    expect(row.costUsd).toBeGreaterThan(0);
  });

  it('the admin summary and /metrics agree with what was recorded', async () => {
    const api = adminApi(platform);
    const records = await api.get(`/api/usage/records?teamId=${teamId}&limit=500`);
    const summary = await api.get(`/api/usage/summary?teamId=${teamId}&interval=hour&groupBy=model`);
    expect(summary.status).toBe(200);
    const rows = records.body.data as Array<{
      promptTokens: number;
      completionTokens: number;
      costUsd: number;
      status: number;
    }>;
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(summary.body.totals.requests).toBe(rows.length);
    expect(summary.body.totals.promptTokens).toBe(rows.reduce((s, r) => s + r.promptTokens, 0));
    expect(summary.body.totals.costUsd).toBeCloseTo(
      rows.reduce((s, r) => s + r.costUsd, 0),
      8,
    );
    expect(summary.body.groups.map((g: { key: string }) => g.key)).toContain('gpt-4o-mini');

    const metrics = parsePrometheusText(await (await fetch(`${platform.gatewayUrl}/metrics`)).text());
    expect(
      sampleSum(metrics, 'llm_gateway_requests_total', { route: 'chat', provider: 'openai', model: 'gpt-4o-mini' }),
    ).toBeGreaterThanOrEqual(rows.length);
    expect(
      sampleSum(metrics, 'llm_gateway_tokens_total', { provider: 'openai', model: 'gpt-4o-mini', type: 'prompt' }),
    ).toBe(rows.reduce((s, r) => s + r.promptTokens, 0));
  });
});

describe.each(kinds)('requests answered just before shutdown (%s)', (kind) => {
  it('are all stored: the reports batched after their responses reach the database before the last flush', async () => {
    const upstream = new FakeOpenAIServer({ apiKey: 'sk-upstream' });
    const baseUrl = await upstream.start();
    // The test owns the database, so close() leaves it for counting.
    const database = await createTestDatabase(kind);
    try {
      const platform = await startPlatform({
        database,
        env: { OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: baseUrl },
      });
      const { key } = await createKey(platform, await createTeam(platform));
      const client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: key, maxRetries: 0 });
      const ids = Array.from({ length: 40 }, () => randomUUID());
      await Promise.all(
        ids.map(async (requestId, i) => {
          const params = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user' as const, content: `Hi ${i}` }] };
          const options = { headers: { 'x-request-id': requestId } };
          if (i % 2 === 0) return client.chat.completions.create(params, options);
          // A stream is reported once its last chunk has been sent: read to the end.
          for await (const _chunk of await client.chat.completions.create({ ...params, stream: true }, options));
        }),
      );
      // The last answers have just left; their reports are still batched.
      await platform.close();

      const reopened = await openDatabase({ ...platform.config.database, migrate: false });
      try {
        const rows = await reopened.driver.query<{ request_id: string; status: number }>(
          'SELECT request_id, status FROM usage_records WHERE request_id = ANY($1)',
          [ids],
        );
        expect(rows.map((r) => r.request_id).sort()).toEqual([...ids].sort());
        expect(rows.every((r) => r.status === 200)).toBe(true);
      } finally {
        await reopened.close();
      }
    } finally {
      await upstream.close();
      await database.drop();
    }
  });
});
