import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi } from '../support/tenancy';
import { storedUsageRow } from '../support/usage';

const CLAUDE = 'claude-sonnet-4-20250514';
const model = `anthropic/${CLAUDE}`;
const webSearch: Anthropic.WebSearchTool20250305 = { type: 'web_search_20250305', name: 'web_search', max_uses: 2 };
const bash: Anthropic.ToolBash20250124 = { type: 'bash_20250124', name: 'bash' };

/** What the SDK assembles from a stream, without what it adds of its own (`parsed_output`). */
function assembled(message: Anthropic.Message & { parsed_output?: unknown }): Anthropic.Message {
  const { parsed_output: _parsed, ...rest } = message;
  return rest;
}

/** The event names of a raw SSE body, in order. */
const eventNames = (sse: string) => [...sse.matchAll(/^event: (\w+)$/gm)].map(([, name]) => name);

/**
 * `/v1/messages` on an Anthropic provider is Anthropic's own API: the request goes
 * as the client wrote it (server tools, Anthropic's client tools), the answer and
 * its events come back as Anthropic gave them (model name aside), while routing,
 * fallbacks to other kinds of providers, and usage work as for every request.
 */
describe('gateway Messages API, natively on Anthropic', () => {
  const anthropicFake = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  const openaiFake = new FakeOpenAIServer({ apiKey: 'sk-upstream-openai', strictArguments: true });
  let platform: TestPlatform;
  let client: Anthropic;
  /** The fake itself, through the same SDK: what Anthropic answers without the gateway. */
  let upstream: Anthropic;
  const messagesCalls = () => anthropicFake.requests.filter((r) => r.path === '/v1/messages');
  const chatCalls = () => openaiFake.requests.filter((r) => r.path.endsWith('/chat/completions'));

  beforeAll(async () => {
    const [anthropicUrl, openaiUrl] = await Promise.all([anthropicFake.start(), openaiFake.start()]);
    platform = await startPlatform({
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
        UPSTREAM_MAX_RETRIES: '1',
        CIRCUIT_FAILURE_THRESHOLD: '100',
      },
    });
    client = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    upstream = new Anthropic({ baseURL: anthropicUrl, apiKey: 'sk-ant-upstream', maxRetries: 0 });
    const admin = adminApi(platform);
    for (const [alias, targets] of [
      ['claude-then-gpt', [model, 'openai/gpt-4o-mini']],
      ['gpt-then-claude', ['openai/gpt-4o-mini', model]],
    ] as const) {
      const targetList = targets.map((id) => ({ provider: id.split('/')[0], model: id.slice(id.indexOf('/') + 1) }));
      const res = await admin.post('/api/routes', { alias, strategy: 'fallback', targets: targetList });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([anthropicFake.close(), openaiFake.close()]);
  });
  beforeEach(() => {
    anthropicFake.reset();
    openaiFake.reset();
  });

  const search = { model, max_tokens: 1024, tools: [webSearch] };

  it('web search: the request reaches Anthropic as sent, the answer comes back as Anthropic gave it', async () => {
    const params = { ...search, messages: [{ role: 'user' as const, content: 'node release' }] };
    const { data, response } = await client.messages.create(params).withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(response.headers.get('x-gateway-model')).toBe(CLAUDE);
    expect(response.headers.get('x-gateway-fallbacks')).toBe('0');
    expect(messagesCalls()[0].body).toEqual({ ...params, model: CLAUDE, stream: false });

    anthropicFake.reset();
    const direct = await upstream.messages.create({ ...params, model: CLAUDE });
    expect(direct.content.map((block) => block.type)).toEqual([
      'text',
      'server_tool_use',
      'web_search_tool_result',
      'text',
    ]);
    // The model named is the one the client asked for, as on every /v1/messages answer.
    expect(data).toEqual({ ...direct, model });
  });

  it('web search streamed: every event relayed (pings too), the assembled message as Anthropic streamed it', async () => {
    const params = { ...search, messages: [{ role: 'user' as const, content: 'node release' }] };
    const streamed = await client.messages.stream(params).finalMessage();
    anthropicFake.reset();
    const direct = await upstream.messages.stream({ ...params, model: CLAUDE }).finalMessage();
    expect(assembled(streamed)).toEqual({ ...assembled(direct), model });
    expect(streamed.content[3]).toMatchObject({ citations: [{ type: 'web_search_result_location' }] });

    const raw = async (url: string, key: string, body: object) => {
      const res = await fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, stream: true }),
      });
      expect(res.status).toBe(200);
      return res.text();
    };
    const viaGateway = await raw(platform.gatewayUrl, TEST_MASTER_KEY, params);
    const fromAnthropic = await raw(anthropicFake.origin, 'sk-ant-upstream', { ...params, model: CLAUDE });
    expect(eventNames(viaGateway)).toEqual(eventNames(fromAnthropic));
    expect(eventNames(viaGateway)).toContain('ping');
    expect(viaGateway).toContain('"type":"citations_delta"');
  });

  it('pause_turn comes back, and the paused turn sent back (server tool blocks in history) is answered', async () => {
    const question = { role: 'user' as const, content: 'search deeply for node' };
    const paused = await client.messages.create({ ...search, messages: [question] });
    expect(paused.stop_reason).toBe('pause_turn');
    expect(paused.content.map((block) => block.type)).toEqual(['server_tool_use', 'web_search_tool_result']);
    const pausedStream = await client.messages.stream({ ...search, messages: [question] }).finalMessage();
    expect(pausedStream.stop_reason).toBe('pause_turn');

    const resumed = await client.messages.create({
      ...search,
      messages: [question, { role: 'assistant', content: paused.content }],
    });
    expect(resumed.stop_reason).toBe('end_turn');
    expect(resumed.content[0]).toMatchObject({ type: 'text', citations: [expect.anything()] });
    const sent = messagesCalls().at(-1)?.body as { messages: Anthropic.MessageParam[] };
    expect(sent.messages[1].content).toEqual(paused.content);
  });

  it("passes Anthropic's own client tools (bash) through, and their tool_use back", async () => {
    const params = {
      model,
      max_tokens: 256,
      tools: [bash],
      messages: [{ role: 'user' as const, content: 'call tool' }],
    };
    for (const answer of [await client.messages.create(params), await client.messages.stream(params).finalMessage()]) {
      expect(answer.stop_reason).toBe('tool_use');
      expect(answer.content.at(-1)).toMatchObject({ type: 'tool_use', name: 'bash', input: { command: 'ls -la' } });
    }
    for (const call of messagesCalls()) expect((call.body as { tools: unknown }).tools).toEqual([bash]);
  });

  it('records usage with cache reads and writes counted as input, cached tokens apart, JSON and streamed', async () => {
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'You are a careful assistant. '.repeat(12), cache_control: { type: 'ephemeral' } },
    ];
    const params = { model, max_tokens: 64, system, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const written = randomUUID();
    const first = await client.messages.create(params, { headers: { 'x-request-id': written } });
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    const read = randomUUID();
    const second = await client.messages.stream(params, { headers: { 'x-request-id': read } }).finalMessage();
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);

    for (const [requestId, message, streamed] of [
      [written, first, false],
      [read, second, true],
    ] as const) {
      const row = await storedUsageRow(platform, requestId);
      const { input_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens } = message.usage;
      expect(row).toMatchObject({
        endpoint: 'messages',
        provider: 'anthropic',
        modelRequested: model,
        modelServed: CLAUDE,
        stream: streamed,
        status: 200,
        promptTokens: input_tokens + (cache_read_input_tokens ?? 0) + (cache_creation_input_tokens ?? 0),
        cachedTokens: cache_read_input_tokens ?? 0,
        completionTokens: output_tokens,
      });
      if (streamed) expect(row.ttftMs).toEqual(expect.any(Number));
    }
  });

  it('falls back from a failing Anthropic target to an OpenAI-compatible one, translated', async () => {
    anthropicFake.enqueue({ status: 500, times: 4 });
    const params = { model: 'claude-then-gpt', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const { data, response } = await client.messages.create(params).withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(response.headers.get('x-gateway-fallbacks')).toBe('1');
    expect(data).toMatchObject({ type: 'message', model: 'claude-then-gpt', stop_reason: 'end_turn' });
    expect(data.content).toEqual([{ type: 'text', text: 'Echo: Hi', citations: null }]);

    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed).toMatchObject({ model: 'claude-then-gpt', content: [{ type: 'text', text: 'Echo: Hi' }] });
    expect(messagesCalls()).toHaveLength(4);
    expect(chatCalls()).toHaveLength(2);
  });

  it('takes an Anthropic stream or answer that breaks the protocol as a failure (502, then the next target), not a 200', async () => {
    const params = { model: 'claude-then-gpt', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const isPost = (r: { method: string }) => r.method === 'POST';
    // A first event the SDK cannot read: message_start without its message. Falls back before the first byte.
    anthropicFake.enqueue({ match: isPost, garbage: JSON.stringify({ type: 'message_start' }), times: 4 });
    const streamed = await client.messages.stream(params).withResponse();
    expect(streamed.response.headers.get('x-gateway-provider')).toBe('openai');
    expect(await streamed.data.finalMessage()).toMatchObject({ content: [{ type: 'text', text: 'Echo: Hi' }] });
    // An answer whose content holds something that is no block.
    anthropicFake.reset();
    anthropicFake.enqueue({
      match: isPost,
      garbage: JSON.stringify({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [null],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 1 },
      }),
      times: 4,
    });
    const { response } = await client.messages.create(params).withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
  });

  it('a server tool on a fallback that cannot take it passes that target over: the failure of the one that can is the answer', async () => {
    anthropicFake.enqueue({ status: 500, times: 2 });
    const error = await client.messages
      .create({ ...search, model: 'claude-then-gpt', messages: [{ role: 'user', content: 'node release' }] })
      .catch((e: unknown) => e);
    // Anthropic's 500s are the answer (a 502), not the fallback's "cannot serve this" 400, which Claude Code would not retry.
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as InstanceType<typeof Anthropic.InternalServerError>).status).toBe(502);
    expect((error as InstanceType<typeof Anthropic.InternalServerError>).error).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });
    expect(chatCalls()).toHaveLength(0);

    // The other way round, the target that cannot take it is passed over for the one that can.
    const { data, response } = await client.messages
      .create({ ...search, model: 'gpt-then-claude', messages: [{ role: 'user', content: 'node release' }] })
      .withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(data.content.map((block) => block.type)).toContain('web_search_tool_result');
    expect(chatCalls()).toHaveLength(0);
  });

  it('a server tool for a model no Anthropic provider serves is a 400 naming tools[0].type, no upstream called', async () => {
    for (const stream of [false, true]) {
      const params = {
        ...search,
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user' as const, content: 'node release' }],
      };
      const error = await (
        stream ? client.messages.stream(params).finalMessage() : client.messages.create(params)
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
        error: { type: 'invalid_request_error', param: 'tools[0].type' },
      });
    }
    expect(chatCalls()).toHaveLength(0);
    expect(messagesCalls()).toHaveLength(0);
  });

  it('a stream cut after message_start is recorded with the prompt Anthropic counted there, natively and on chat', async () => {
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'You are a terse assistant. '.repeat(12), cache_control: { type: 'ephemeral' } },
    ];
    const params = { model, max_tokens: 64, system, messages: [{ role: 'user' as const, content: 'a b c d e f' }] };
    await client.messages.create(params);
    // What Anthropic counts for that prompt now that its prefix is cached (the gateway's estimate has no cache reads).
    const { usage } = await upstream.messages.create({ ...params, model: CLAUDE });
    expect(usage.cache_read_input_tokens).toBeGreaterThan(0);
    const prompt = usage.input_tokens + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);

    const native = randomUUID();
    anthropicFake.enqueue({ streamErrorAfter: 3 });
    const failed = await client.messages
      .stream(params, { headers: { 'x-request-id': native } })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Anthropic.APIError);

    const chat = randomUUID();
    anthropicFake.enqueue({ streamErrorAfter: 4 });
    const openai = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const stream = await openai.chat.completions.create(
      {
        model,
        max_tokens: 64,
        stream: true,
        messages: [
          { role: 'system', content: [{ type: 'text', text: system[0].text, cache_control: { type: 'ephemeral' } }] },
          { role: 'user', content: 'a b c d e f' },
        ] as OpenAI.ChatCompletionMessageParam[],
      },
      { headers: { 'x-request-id': chat } },
    );
    await expect(
      (async () => {
        for await (const _chunk of stream);
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);

    for (const requestId of [native, chat]) {
      const row = await storedUsageRow(platform, requestId);
      expect(row).toMatchObject({
        provider: 'anthropic',
        promptTokens: prompt,
        cachedTokens: usage.cache_read_input_tokens,
      });
      expect(row.status).toBeGreaterThanOrEqual(500);
    }
  });

  it("an upstream error after the first event is Anthropic's error event", async () => {
    anthropicFake.enqueue({ streamErrorAfter: 3 });
    const error = await client.messages
      .stream({ model, max_tokens: 64, messages: [{ role: 'user', content: 'a b c d' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ error: { type: 'error', error: { type: expect.any(String) } } });
  });

  it('a client that goes away mid-stream aborts the upstream call', async () => {
    anthropicFake.enqueue({ chunkDelayMs: 200 });
    const stream = client.messages.stream({
      model,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'a b c d e f' }],
    });
    const ended = stream.done().catch((e: unknown) => e);
    await new Promise<void>((resolve) => stream.on('streamEvent', () => resolve()));
    stream.abort();
    expect(await ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    const call = await anthropicFake.waitForRequest((r) => r.path === '/v1/messages');
    await expect.poll(() => call.aborted, { timeout: 5_000 }).toBe(true);
  });
});
