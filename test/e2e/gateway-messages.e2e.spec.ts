import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOllamaServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/** What reached a fake upstream's chat endpoint. */
const chatBodies = (fake: FakeOpenAIServer) =>
  fake.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as Record<string, unknown>);

/** `POST /v1/messages` with the Anthropic SDK over OpenAI-shaped upstreams: what they receive, what the client gets. */
describe('gateway Messages API over OpenAI-shaped providers', () => {
  const openaiFake = new FakeOpenAIServer({ apiKey: 'sk-upstream-openai' });
  const ollamaFake = new FakeOllamaServer({ models: ['llama3:8b'] });
  let platform: TestPlatform;
  let client: Anthropic;

  beforeAll(async () => {
    const openaiUrl = await openaiFake.start();
    await ollamaFake.start();
    platform = await startPlatform({
      apps: ['gateway'],
      env: { OPENAI_API_KEY: 'sk-upstream-openai', OPENAI_BASE_URL: openaiUrl, OLLAMA_HOST: ollamaFake.origin },
    });
    client = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([openaiFake.close(), ollamaFake.close()]);
  });
  beforeEach(() => {
    openaiFake.reset();
    ollamaFake.reset();
  });

  it('sends top_k to the providers that take it, not to OpenAI', async () => {
    const ask = (model: string, stream: boolean) => {
      // `top_k` left the SDK's types with API version 2026-10-21; clients on older versions still send it.
      const params = { model, max_tokens: 64, top_k: 3, messages: [{ role: 'user' as const, content: 'Hi' }] };
      return stream ? client.messages.stream(params).finalMessage() : client.messages.create(params);
    };
    for (const stream of [false, true]) {
      expect((await ask('openai/gpt-4o-mini', stream)).type).toBe('message');
      expect((await ask('ollama/llama3:8b', stream)).type).toBe('message');
    }
    const toOpenAI = chatBodies(openaiFake);
    const toOllama = chatBodies(ollamaFake);
    expect(toOpenAI).toHaveLength(2);
    expect(toOpenAI.every((body) => !('top_k' in body))).toBe(true);
    expect(toOllama).toHaveLength(2);
    expect(toOllama.every((body) => body['top_k'] === 3)).toBe(true);
  });

  it('gives a tool call whose arguments are not an object the same input streamed or not', async () => {
    // The fake fills tool arguments from the schema: here a JSON array, which no Anthropic input can be.
    const tools = [
      {
        name: 'pick',
        input_schema: {
          type: 'array',
          items: { type: 'integer' },
          minItems: 2,
        } as unknown as Anthropic.Tool.InputSchema,
      },
    ];
    const request = {
      model: 'openai/gpt-4o-mini',
      max_tokens: 64,
      tools,
      tool_choice: { type: 'any' as const },
      messages: [{ role: 'user' as const, content: 'Pick two numbers' }],
    };
    const json = await client.messages.create(request);
    const streamed = await client.messages.stream(request).finalMessage();
    const input = (message: Anthropic.Message) => message.content.find((block) => block.type === 'tool_use')?.input;
    expect(input(json)).toEqual({});
    expect(input(streamed)).toEqual(input(json));
    expect(streamed.stop_reason).toBe('tool_use');
  });
});
