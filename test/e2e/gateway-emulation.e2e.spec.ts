import { randomUUID } from 'node:crypto';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type UsageRecordEntry, UsageRepository } from '@app/db';
import { FakeOpenAIServer } from '@app/testing';
import { UsageWriter } from '@app/usage';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi } from '../support/tenancy';

const isPost = (request: { method: string }) => request.method === 'POST';
const person = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name', 'age'],
};
const personFormat = { type: 'json_schema' as const, json_schema: { name: 'person', schema: person } };
const ask = [{ role: 'user' as const, content: 'A famous programmer' }];

/**
 * Tool calling and structured output emulated for a provider without them, end to
 * end: official SDK and raw HTTP -> gateway -> a fake OpenAI-compatible server whose
 * replies are scripted as a model's would be.
 */
describe('gateway emulation of tools and structured output', () => {
  const upstream = new FakeOpenAIServer();
  let platform: TestPlatform;
  let client: OpenAI;

  /** The stored usage row of a request, once reported and written. */
  async function rowOf(requestId: string): Promise<UsageRecordEntry> {
    const usage = platform.gateway!.app.get(UsageRepository);
    const writer = platform.gateway!.app.get(UsageWriter);
    let row: UsageRecordEntry | null = null;
    await expect
      .poll(
        async () => {
          await writer.flush();
          row = await usage.findUsageRecordByRequestId(requestId);
          return row;
        },
        { timeout: 5_000, interval: 50 },
      )
      .not.toBeNull();
    return row!;
  }

  beforeAll(async () => {
    await upstream.start();
    platform = await startPlatform({ env: { UPSTREAM_MAX_RETRIES: '0', CIRCUIT_FAILURE_THRESHOLD: '3' } });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const created = await adminApi(platform).post('/api/providers', {
      name: 'plain',
      kind: 'openai-compatible',
      baseUrl: upstream.baseURL,
      apiKey: 'k',
      options: { nativeTools: false, nativeJsonSchema: false },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await platform?.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  describe('structured output', () => {
    it('counts the tokens of the first reply and of its repair, for the client and in the usage row', async () => {
      const badThenGood = () =>
        upstream.enqueue(
          { match: isPost, text: '{"name": "Ada"}', usage: { prompt_tokens: 100, completion_tokens: 5 } },
          { match: isPost, text: '{"name": "Ada", "age": 36}', usage: { prompt_tokens: 130, completion_tokens: 9 } },
        );
      badThenGood();
      const requestId = randomUUID();
      const res = await client.chat.completions.create(
        { model: 'plain/small', messages: ask, response_format: personFormat },
        { headers: { 'x-request-id': requestId } },
      );
      expect(JSON.parse(res.choices[0].message.content!)).toEqual({ name: 'Ada', age: 36 });
      expect(res.usage).toMatchObject({ prompt_tokens: 230, completion_tokens: 14, total_tokens: 244 });
      expect(await rowOf(requestId)).toMatchObject({ promptTokens: 230, completionTokens: 14, totalTokens: 244 });

      badThenGood();
      const streamId = randomUUID();
      const stream = await client.chat.completions.create(
        {
          model: 'plain/small',
          messages: ask,
          response_format: personFormat,
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-request-id': streamId } },
      );
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      expect(usage).toMatchObject({ prompt_tokens: 230, completion_tokens: 14 });
      expect(await rowOf(streamId)).toMatchObject({ promptTokens: 230, completionTokens: 14 });
    });

    it('answers 502 for a reply that fails the schema twice, records both calls, and keeps the provider open', async () => {
      // More failures than CIRCUIT_FAILURE_THRESHOLD: the model's answers, not the provider, are at fault.
      for (let i = 0; i < 4; i++) {
        upstream.enqueue(
          { match: isPost, text: '{"name": "Ada"}', usage: { prompt_tokens: 100, completion_tokens: 5 } },
          { match: isPost, text: 'Sorry, {"age": "old"}', usage: { prompt_tokens: 130, completion_tokens: 9 } },
        );
        const requestId = randomUUID();
        const error = await client.chat.completions
          .create(
            { model: 'plain/small', messages: ask, response_format: personFormat, stream: i % 2 === 1 },
            { headers: { 'x-request-id': requestId } },
          )
          .then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).status).toBe(502);
        expect((error as APIError).message).toMatch(/schema/);
        expect(await rowOf(requestId)).toMatchObject({ status: 502, promptTokens: 230, completionTokens: 14 });
      }
      expect(upstream.requests.filter(isPost)).toHaveLength(8);
      const res = await client.chat.completions.create({ model: 'plain/small', messages: ask });
      expect(res.choices[0].message.content).toBe('Echo: A famous programmer');
    });
  });
});
