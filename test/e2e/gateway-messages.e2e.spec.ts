import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOllamaServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/** What reached a fake upstream's chat endpoint. */
const chatBodies = (fake: FakeOpenAIServer) =>
  fake.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as Record<string, unknown>);

/** `POST /v1/messages` with the Anthropic SDK over OpenAI-shaped upstreams: what they receive, what the client gets. */
describe('gateway Messages API over OpenAI-shaped providers', () => {
  // Like OpenAI itself, refuses a request carrying an argument OpenAI does not define, and `max_tokens` for o-series models.
  const openaiFake = new FakeOpenAIServer({
    apiKey: 'sk-upstream-openai',
    strictArguments: true,
    reasoningModels: true,
  });
  const ollamaFake = new FakeOllamaServer({ models: ['llama3:8b'] });
  /** Gemini 3: refuses tool calls sent back without their thought signature. */
  const geminiFake = new FakeOpenAIServer({
    apiKey: 'gm-key',
    basePath: '/v1beta/openai',
    requireThoughtSignatures: true,
  });
  let platform: TestPlatform;
  let client: Anthropic;

  beforeAll(async () => {
    const openaiUrl = await openaiFake.start();
    await Promise.all([ollamaFake.start(), geminiFake.start()]);
    platform = await startPlatform({
      apps: ['gateway'],
      env: {
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
        OLLAMA_HOST: ollamaFake.origin,
        GEMINI_API_KEY: 'gm-key',
        GEMINI_BASE_URL: geminiFake.baseURL,
      },
    });
    client = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([openaiFake.close(), ollamaFake.close(), geminiFake.close()]);
  });
  beforeEach(() => {
    openaiFake.reset();
    ollamaFake.reset();
    geminiFake.reset();
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

  it("reaches OpenAI's reasoning models, which refuse max_tokens: the bound goes as max_completion_tokens", async () => {
    const params = {
      model: 'openai/o3-mini',
      max_tokens: 300,
      output_config: { effort: 'low' as const },
      messages: [{ role: 'user' as const, content: 'Hi' }],
    };
    expect((await client.messages.create(params)).type).toBe('message');
    expect((await client.messages.stream(params).finalMessage()).type).toBe('message');
    for (const body of chatBodies(openaiFake)) {
      expect(body).toMatchObject({ model: 'o3-mini', max_completion_tokens: 300, reasoning_effort: 'low' });
      expect(body).not.toHaveProperty('max_tokens');
    }
    // Other providers keep max_tokens, the field every OpenAI-shaped server knows.
    await client.messages.create({ ...params, model: 'ollama/llama3:8b' });
    expect(chatBodies(ollamaFake).at(-1)).toMatchObject({ max_tokens: 300 });
  });

  it('sends OpenAI only its own arguments, translating the Anthropic fields it has an equivalent for', async () => {
    const anthropicOnly = {
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      container: 'container_011CPR5CNjB747bTd36fQLFk',
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' as const }] },
      mcp_servers: [{ type: 'url' as const, url: 'https://mcp.example.com/sse', name: 'example' }],
      inference_geo: 'us',
    };
    const params = {
      ...anthropicOnly,
      max_tokens: 2048,
      temperature: 0.5,
      metadata: { user_id: 'user-42' },
      service_tier: 'standard_only' as const,
      messages: [{ role: 'user' as const, content: 'Hi' }],
      // Sent as the anthropic-beta header.
      betas: ['mcp-client-2025-04-04', 'context-management-2025-06-27'],
    };
    const ask = (model: string, stream: boolean) =>
      stream
        ? client.beta.messages.stream({ ...params, model }).finalMessage()
        : client.beta.messages.create({ ...params, model });
    for (const stream of [false, true]) {
      expect((await ask('openai/gpt-4o-mini', stream)).type).toBe('message');
      expect((await ask('ollama/llama3:8b', stream)).type).toBe('message');
    }
    const sent = (fake: FakeOpenAIServer) => fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
    for (const request of [...sent(openaiFake), ...sent(ollamaFake)]) {
      expect(request.headers['anthropic-beta']).toBeUndefined();
    }
    const toOpenAI = chatBodies(openaiFake);
    expect(toOpenAI).toHaveLength(2);
    for (const body of toOpenAI) {
      expect(body).toMatchObject({
        temperature: 0.5,
        user: 'user-42',
        service_tier: 'default',
        max_completion_tokens: 2048,
      });
      for (const field of [...Object.keys(anthropicOnly), 'metadata', 'betas', 'max_tokens']) {
        expect(body).not.toHaveProperty(field);
      }
    }
    // Servers that ignore what they do not know get the fields as they came.
    const toOllama = chatBodies(ollamaFake);
    expect(toOllama).toHaveLength(2);
    for (const body of toOllama) {
      expect(body).toMatchObject({ ...anthropicOnly, service_tier: 'standard_only' });
      // The anthropic-beta header (as `betas`) is for Anthropic providers alone.
      expect(body).not.toHaveProperty('betas');
    }
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

  it('gives parallel tool calls an upstream streams interleaved a block each, in order, to the SDK', async () => {
    openaiFake.enqueue({ match: (r) => r.method === 'POST', interleaveToolCalls: true });
    const tool = (name: string, property: string) => ({
      name,
      input_schema: { type: 'object' as const, properties: { [property]: { type: 'string' } }, required: [property] },
    });
    const stream = client.messages.stream({
      model: 'openai/gpt-4o-mini',
      max_tokens: 256,
      tools: [tool('get_weather', 'city'), tool('get_time', 'timezone')],
      messages: [{ role: 'user', content: 'Please call tool get_weather and get_time for Paris' }],
    });
    // What the SDK saw, in order: each block's deltas between its start and its stop.
    const seen: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type.startsWith('content_block_')) seen.push(`${event.type}:${'index' in event ? event.index : ''}`);
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(
      message.content.map((block) => (block.type === 'tool_use' ? [block.name, block.input] : block.type)),
    ).toEqual([
      ['get_weather', { city: expect.any(String) }],
      ['get_time', { timezone: expect.any(String) }],
    ]);
    const stop0 = seen.indexOf('content_block_stop:0');
    expect(seen.slice(stop0 + 1).some((entry) => entry.endsWith(':0'))).toBe(false);
    expect(seen.indexOf('content_block_start:1')).toBeGreaterThan(stop0);
    // One streamed request, with both tools (the fake interleaves their calls: see its spec).
    const toOpenAI = chatBodies(openaiFake);
    expect(toOpenAI.at(-1)).toMatchObject({ stream: true, tools: [expect.anything(), expect.anything()] });
  });

  it('refuses Chat Completions arguments the Messages API has no field for, before any upstream call', async () => {
    for (const [name, value] of [
      ['n', 3],
      ['max_completion_tokens', 100_000_000],
      ['top_logprobs', 99],
    ] as const) {
      const params = {
        model: 'openai/gpt-4o-mini',
        max_tokens: 5,
        messages: [{ role: 'user' as const, content: 'Hi' }],
      };
      const refused = await client.messages.create({ ...params, [name]: value }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
      expect((refused as InstanceType<typeof Anthropic.BadRequestError>).message).toContain(
        `${name} is a Chat Completions parameter`,
      );
    }
    expect(chatBodies(openaiFake)).toHaveLength(0);
  });

  it("runs a tool loop on Gemini 3, whose thought signatures Anthropic's tool_use blocks cannot carry back", async () => {
    const tools = [
      {
        name: 'get_weather',
        input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ];
    const params = { model: 'gemini/gemini-3-pro-preview', max_tokens: 256, tools };
    const question = { role: 'user' as const, content: 'Please call tool get_weather for Paris' };
    const first = await client.messages.create({ ...params, messages: [question] });
    const call = first.content.find((block) => block.type === 'tool_use');
    expect(call).toBeDefined();
    // The second turn sends the call back, as every Anthropic client does: without a signature.
    const second = await client.messages.create({
      ...params,
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call!.id, content: 'sunny, 21C' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    const sent = geminiFake.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)?.body as {
      messages: Array<{ role: string; tool_calls?: Array<{ extra_content?: unknown }> }>;
    };
    expect(sent.messages.find((m) => m.role === 'assistant')?.tool_calls?.[0].extra_content).toEqual({
      google: { thought_signature: 'skip_thought_signature_validator' },
    });
  });

  it('reports the stop sequence that ended a mock answer, JSON and streamed', async () => {
    const params = {
      model: 'mock/echo-1',
      max_tokens: 64,
      stop_sequences: ['world'],
      messages: [{ role: 'user' as const, content: 'hello world again' }],
    };
    for (const message of [await client.messages.create(params), await client.messages.stream(params).finalMessage()]) {
      expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'world' });
      expect(message.content).toEqual([expect.objectContaining({ text: '[mock] hello ' })]);
    }
  });

  it("gives Anthropic's SDK the request id where it reads it (request-id): answers, streams, token counts and errors", async () => {
    const params = {
      model: 'openai/gpt-4o-mini',
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'Hi' }],
    };

    const answer = await client.messages.create(params).withResponse();
    expect(answer.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.request_id).toBe(answer.response.headers.get('x-request-id'));
    const message = await client.messages.create(params);
    expect(message._request_id).toMatch(/^[0-9a-f-]{36}$/);

    // An id the caller chose is echoed under both names.
    const stream = client.messages.stream(params, { headers: { 'x-request-id': 'trace-42' } });
    await stream.finalMessage();
    expect(stream.request_id).toBe('trace-42');

    const counted = await client.messages
      .countTokens({ model: params.model, messages: params.messages })
      .withResponse();
    expect(counted.request_id).toBe(counted.response.headers.get('x-request-id'));
    expect(counted.request_id).toBeTruthy();

    const refused = await client.messages.create({ ...params, model: 'no-such/model' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    const apiError = refused as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.requestID).toMatch(/^[0-9a-f-]{36}$/);
    // In the body too, as Anthropic's errors carry it.
    expect(apiError.error).toMatchObject({ type: 'error', request_id: apiError.requestID });

    // The OpenAI-shaped routes keep to OpenAI's header alone.
    const chat = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: params.model, messages: params.messages }),
    });
    expect(chat.headers.get('x-request-id')).toBeTruthy();
    expect(chat.headers.get('request-id')).toBeNull();
  });
});
