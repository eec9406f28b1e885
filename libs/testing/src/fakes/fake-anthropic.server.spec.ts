import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from './fake-anthropic.server';

describe('FakeAnthropicServer with the official @anthropic-ai/sdk client', () => {
  const fake = new FakeAnthropicServer();
  let client: Anthropic;

  beforeAll(async () => {
    client = new Anthropic({ baseURL: await fake.start(), apiKey: 'sk-ant-test', maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers a message with a text block, end_turn and usage', async () => {
    const msg = await client.messages.create({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-latest',
      content: [{ type: 'text', text: 'Echo: hello there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 6, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    const seen = fake.lastRequest;
    // SDK 1.x sends the key as a bearer token; older clients use x-api-key (both accepted).
    expect(seen?.headers.authorization).toBe('Bearer sk-ant-test');
    expect(seen?.headers['anthropic-version']).toBeTruthy();
  });

  it('streams the exact event sequence and the SDK assembles the final message', async () => {
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'stream me please' }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: stream me please' })]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 4, output_tokens: 6 });
    const raw = await fetchRaw(fake.origin, 'one two three');
    const names = [...raw.matchAll(/^event: (\w+)\ndata: \{"type":"(\w+)"/gm)].map(([, event, type]) => {
      expect(type).toBe(event);
      return event;
    });
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array<string>(4).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(raw).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    expect(raw).toContain('"delta":{"type":"text_delta","text":"Echo: "}');
  });

  const tools: Anthropic.Tool[] = [
    {
      name: 'get_weather',
      description: 'Weather for a city',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ];

  it('answers "call tool" with text plus tool_use, and streams input_json_delta', async () => {
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 100,
      tools,
      messages: [{ role: 'user', content: 'please call tool' }],
    });
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content.map((b) => b.type)).toEqual(['text', 'tool_use']);
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 100,
      tools,
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'weather?' }],
    });
    let partial = '';
    stream.on('inputJson', (delta) => (partial += delta));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'sample city' } });
    expect(JSON.parse(partial)).toEqual({ city: 'sample city' });
  });

  it('uses each tool a prompt names in one turn, unless parallel tool use is disabled', async () => {
    const time = {
      name: 'get_time',
      input_schema: { type: 'object' as const, properties: { tz: { type: 'string' } } },
    };
    const ask = {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 100,
      tools: [...tools, time],
      messages: [{ role: 'user' as const, content: 'please call tool get_time and get_weather' }],
    };
    const uses = (content: Anthropic.ContentBlock[]) => content.flatMap((b) => (b.type === 'tool_use' ? [b.name] : []));
    const msg = await client.messages.stream(ask).finalMessage();
    expect(uses(msg.content)).toEqual(['get_time', 'get_weather']);
    const single = await client.messages.create({
      ...ask,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    expect(uses(single.content)).toEqual(['get_time']);
  });

  it('thinks first when thinking is on, and checks the thinking it gets back as Anthropic does', async () => {
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    const ask = { model: 'm', max_tokens: 2048, thinking, tools };
    const first = client.messages.stream({ ...ask, messages: [{ role: 'user', content: 'call tool' }] });
    const turn = await first.finalMessage();
    expect(turn.content.map((b) => b.type)).toEqual(['thinking', 'redacted_thinking', 'text', 'tool_use']);
    expect(turn.content[0]).toMatchObject({ thinking: expect.stringContaining('call tool') });
    const use = turn.content[3] as Anthropic.ToolUseBlock;
    const result = {
      role: 'user' as const,
      content: [{ type: 'tool_result' as const, tool_use_id: use.id, content: 'Sunny' }],
    };
    const messages = (content: Anthropic.ContentBlockParam[]): Anthropic.MessageParam[] => [
      { role: 'user', content: 'call tool' },
      { role: 'assistant', content },
      result,
    ];
    const next = await client.messages.create({ ...ask, messages: messages(turn.content) });
    expect(next.content.map((b) => b.type)).toEqual(['thinking', 'redacted_thinking', 'text']);
    const refused = (content: Anthropic.ContentBlockParam[]) =>
      client.messages.create({ ...ask, messages: messages(content) }).catch((e: unknown) => e);
    expect(await refused(turn.content.slice(2))).toMatchObject({
      status: 400,
      message: expect.stringContaining('Expected `thinking` or `redacted_thinking`, but found `text`'),
    });
    const tampered = [
      { ...(turn.content[0] as Anthropic.ThinkingBlock), thinking: 'edited' },
      ...turn.content.slice(1),
    ];
    expect(await refused(tampered)).toMatchObject({
      status: 400,
      message: expect.stringContaining('Invalid `signature`'),
    });
  });

  it('answers JSON that fits the schema of output_config.format', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const message = await client.messages.create({
      model: 'm',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Describe a person' }],
      output_config: { format: { type: 'json_schema', schema } },
    });
    const text = message.content[0].type === 'text' ? message.content[0].text : '';
    expect(JSON.parse(text)).toEqual({ name: expect.any(String) });
  });

  it('answers a tool_result with text', async () => {
    const msg = await client.messages.create({
      model: 'm',
      max_tokens: 100,
      tools,
      messages: [
        { role: 'user', content: 'call tool' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'Tool result: sunny' }]);
  });

  it('reports max_tokens and stop_sequence stop reasons', async () => {
    const cut = await client.messages.create({
      model: 'm',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'a long answer' }],
    });
    expect(cut).toMatchObject({ stop_reason: 'max_tokens', content: [{ text: 'Echo: a ' }] });
    const stopped = await client.messages.create({
      model: 'm',
      max_tokens: 100,
      stop_sequences: ['END'],
      messages: [{ role: 'user', content: 'one END two' }],
    });
    expect(stopped).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    expect(stopped.content[0]).toMatchObject({ text: 'Echo: one ' });
  });

  it('writes then reads the prompt cache for a cache_control prefix', async () => {
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'You are a helpful assistant. '.repeat(10), cache_control: { type: 'ephemeral' } },
    ];
    const ask = () =>
      client.messages.create({ model: 'm', max_tokens: 50, system, messages: [{ role: 'user', content: 'hi' }] });
    const first = await ask();
    expect(first.usage).toMatchObject({ cache_creation_input_tokens: 73, cache_read_input_tokens: 0, input_tokens: 1 });
    const second = await ask();
    expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 73 });
  });

  it('rejects missing max_tokens and anthropic-version in Anthropic error shape', async () => {
    const err: unknown = await client.messages
      .create({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
    const res = await fetch(`${fake.origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { message: 'anthropic-version: header is required' } });
    const anonymous = await fetch(`${fake.origin}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } });
    expect(anonymous.status).toBe(401);
  });

  it('raises typed errors for scripted 429, 529 and 500', async () => {
    fake.enqueue({ status: 429 }, { status: 529 }, { status: 500 });
    const ask = () => client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    const limited: unknown = await ask().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as APIError).headers?.get('retry-after')).toBe('1');
    expect((limited as APIError).error).toMatchObject({ error: { type: 'rate_limit_error' } });
    await expect(ask()).rejects.toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
    await expect(ask()).rejects.toMatchObject({ status: 500, error: { error: { type: 'api_error' } } });
  });

  it('surfaces an in-stream overloaded error and a dropped stream', async () => {
    const params = { model: 'm', max_tokens: 50, messages: [{ role: 'user' as const, content: 'a b c d' }] };
    fake.enqueue({ streamErrorAfter: 3 });
    await expect(client.messages.stream(params).finalMessage()).rejects.toMatchObject({
      error: { error: { type: 'overloaded_error' } },
    });
    fake.enqueue({ dropStreamAfter: 4 });
    await expect(client.messages.stream(params).finalMessage()).rejects.toThrow();
    expect(fake.lastRequest?.aborted).toBe(false);
  });

  it('lists models in Anthropic page shape', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-3-5-haiku-20241022');
    expect(page.data[0]).toMatchObject({ type: 'model', display_name: expect.any(String) });
    await expect(client.models.retrieve('claude-opus-4-20250514')).resolves.toMatchObject({ type: 'model' });
  });
});

/** The raw SSE text of one streamed message, to check framing byte for byte. */
async function fetchRaw(origin: string, content: string): Promise<string> {
  const res = await fetch(`${origin}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', max_tokens: 50, stream: true, messages: [{ role: 'user', content }] }),
  });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return res.text();
}
