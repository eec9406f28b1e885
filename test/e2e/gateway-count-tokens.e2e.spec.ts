import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicToChat, estimatePromptTokens } from '@app/completions';
import { countInputTokens, FakeAnthropicServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi } from '../support/tenancy';

/** What Anthropic's count_tokens accepts; anything else it refuses as an extra input. */
const COUNT_FIELDS = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config'];

const weather = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};
const question = {
  system: 'Answer in one sentence.',
  messages: [{ role: 'user' as const, content: 'What is the weather in Paris, and should I take an umbrella?' }],
  tools: [weather],
};

/** `POST /v1/messages/count_tokens` with the Anthropic SDK, over an Anthropic and an OpenAI upstream. */
describe('gateway count_tokens (Anthropic SDK)', () => {
  const anthropicFake = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  const openaiFake = new FakeOpenAIServer({ apiKey: 'sk-upstream-openai' });
  let platform: TestPlatform;
  let client: Anthropic;

  beforeAll(async () => {
    const [anthropicUrl, openaiUrl] = await Promise.all([anthropicFake.start(), openaiFake.start()]);
    platform = await startPlatform({
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
      },
    });
    client = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([anthropicFake.close(), openaiFake.close()]);
  });
  beforeEach(() => {
    anthropicFake.reset();
    openaiFake.reset();
  });

  const counts = (fake: FakeAnthropicServer) => fake.requests.filter((r) => r.path === '/v1/messages/count_tokens');

  it('asks an Anthropic upstream, with only the fields count_tokens accepts', async () => {
    const { data, response } = await client.messages
      .countTokens({ model: 'anthropic/claude-sonnet-4-5', ...question })
      .withResponse();

    const [sent] = counts(anthropicFake);
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-5', system: question.system });
    expect(Object.keys(sent.body as object).every((key) => COUNT_FIELDS.includes(key))).toBe(true);
    expect(data.input_tokens).toBe(countInputTokens(sent.body as Record<string, never>));
    expect(data.input_tokens).toBeGreaterThan(10);
    expect(response.headers.get('x-gateway-token-count')).toBe('upstream');
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(anthropicFake.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(0);
  });

  it('counts a request natively on Anthropic: server tools and typed tools as sent, generation fields left out', async () => {
    const tools = [
      { type: 'web_search_20250305', name: 'web_search', max_uses: 2 },
      { type: 'bash_20250124', name: 'bash' },
      weather,
    ];
    const post = (body: unknown) =>
      fetch(`${platform.gatewayUrl}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: {
          'x-api-key': TEST_MASTER_KEY,
          'content-type': 'application/json',
          'anthropic-beta': 'context-management-2025-06-27',
        },
        body: JSON.stringify(body),
      });
    const res = await post({
      model: 'anthropic/claude-sonnet-4-5',
      ...question,
      tools,
      max_tokens: 1024,
      temperature: 0.2,
      context_management: { edits: [] },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-token-count')).toBe('upstream');
    const [sent] = counts(anthropicFake);
    expect(sent.body).toEqual({
      model: 'claude-sonnet-4-5',
      system: question.system,
      messages: question.messages,
      tools,
      context_management: { edits: [] },
    });
    expect(sent.headers['anthropic-beta']).toContain('context-management-2025-06-27');
    expect(await res.json()).toEqual({ input_tokens: countInputTokens(sent.body as Record<string, never>) });

    // Translated for any other provider: a server tool has no place there.
    const elsewhere = await post({ model: 'openai/gpt-4o', ...question, tools });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ type: 'error', error: { param: 'tools[0].type' } });
  });

  it('counts on the first target of a route that can carry the request, as /v1/messages serves it there', async () => {
    const route = await adminApi(platform).post('/api/routes', {
      alias: 'count-mixed',
      strategy: 'fallback',
      targets: [
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
    });
    expect(route.status).toBe(201);
    const search = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
    const { data, response } = await client.messages
      .countTokens({ model: 'count-mixed', messages: question.messages, tools: [search] } as never)
      .withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(response.headers.get('x-gateway-token-count')).toBe('upstream');
    expect(data.input_tokens).toBeGreaterThan(0);
    // What the first target can carry is counted there.
    const plain = await client.messages.countTokens({ model: 'count-mixed', ...question }).withResponse();
    expect(plain.response.headers.get('x-gateway-provider')).toBe('openai');
  });

  it('estimates for a provider that cannot count, without calling it', async () => {
    const short = await client.messages
      .countTokens({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    const long = await client.messages.countTokens({ model: 'openai/gpt-4o', ...question });

    expect(short.response.headers.get('x-gateway-token-count')).toBe('estimated');
    expect(short.response.headers.get('x-gateway-provider')).toBe('openai');
    const expected = estimatePromptTokens(anthropicToChat({ model: 'openai/gpt-4o', max_tokens: 1, ...question }));
    expect(long.input_tokens).toBe(expected);
    expect(long.input_tokens).toBeGreaterThan(short.data.input_tokens);
    expect(openaiFake.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('estimates when the upstream cannot count, and reports a request it refuses', async () => {
    anthropicFake.enqueue({ status: 503 });
    const down = await client.messages
      .countTokens({ model: 'anthropic/claude-sonnet-4-5', ...question })
      .withResponse();
    expect(down.response.headers.get('x-gateway-token-count')).toBe('estimated');
    expect(down.data.input_tokens).toBeGreaterThan(10);

    anthropicFake.reset();
    anthropicFake.enqueue({ status: 400 });
    const refused = await client.messages
      .countTokens({ model: 'anthropic/claude-sonnet-4-5', ...question })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('rejects bad input in the Messages error shape', async () => {
    const post = (body: unknown) =>
      fetch(`${platform.gatewayUrl}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const noMessages = await post({ model: 'anthropic/claude-sonnet-4-5' });
    expect(noMessages.status).toBe(400);
    expect(await noMessages.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', param: 'messages' },
    });
    // Checked by the gateway where it translates (Anthropic checks what it is sent natively).
    const badSchema = await post({
      model: 'openai/gpt-4o',
      messages: question.messages,
      tools: [{ name: 'f', input_schema: { type: 'object', properties: { a: { type: 12 } } } }],
    });
    expect(badSchema.status).toBe(400);
    expect(await badSchema.json()).toMatchObject({ type: 'error', error: { param: 'tools[0].input_schema' } });
    const unknown = await post({ model: 'nowhere/nothing', messages: question.messages });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error', param: 'model' } });
    const anonymous = await fetch(`${platform.gatewayUrl}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: question.messages }),
    });
    expect(anonymous.status).toBe(401);
    expect(counts(anthropicFake)).toHaveLength(0);
  });
});
