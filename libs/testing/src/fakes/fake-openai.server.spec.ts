import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from './fake-openai.server';

describe('FakeOpenAIServer with the official openai client', () => {
  const fake = new FakeOpenAIServer();
  let client: OpenAI;

  beforeAll(async () => {
    client = new OpenAI({ baseURL: await fake.start(), apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers a chat completion with deterministic text and usage', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0].message).toMatchObject({ role: 'assistant', content: 'Echo: hello there' });
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 });
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('streams chunks, then a usage chunk with empty choices, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Echo: stream me please');
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ completion_tokens: 6, total_tokens: 10 });
    expect(fake.lastRequest?.rawBody).toContain('"include_usage":true');
  });

  it('reasons first when asked to, in reasoning_content or reasoning, in JSON and streamed', async () => {
    type Reasoning = { reasoning_content?: string | null; reasoning?: string };
    const ask = { model: 'deepseek-reasoner', messages: [{ role: 'user' as const, content: 'Hi' }] };
    fake.enqueue({ reasoning: { text: 'A greeting.' } }, { reasoning: { text: 'A greeting.', field: 'reasoning' } });
    const json = (await client.chat.completions.create(ask)).choices[0].message as OpenAI.ChatCompletionMessage &
      Reasoning;
    expect(json).toMatchObject({ content: 'Echo: Hi', reasoning_content: 'A greeting.' });
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    const deltas: Array<OpenAI.ChatCompletionChunk.Choice.Delta & Reasoning> = [];
    for await (const chunk of stream) if (chunk.choices[0]) deltas.push(chunk.choices[0].delta);
    expect(deltas.map((d) => d.reasoning ?? '').join('')).toBe('A greeting.');
    const firstContent = deltas.findIndex((d) => d.content);
    expect(deltas.slice(firstContent).every((d) => d.reasoning === undefined)).toBe(true);
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('Echo: Hi');
  });

  it('omits the usage chunk unless include_usage is set', async () => {
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  const weatherTool: OpenAI.Chat.ChatCompletionTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 }, unit: { enum: ['c', 'f'] } },
        required: ['city', 'days', 'unit'],
      },
    },
  };

  it('answers with a tool call whose arguments fit the parameters', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Please call tool for Paris' }],
      tools: [weatherTool],
    });
    const choice = res.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    const args: unknown = call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined;
    expect(args).toEqual({ city: 'sample city', days: 1, unit: 'c' });
  });

  it('streams a tool call as argument deltas that reassemble to valid JSON', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      stream: true,
    });
    let args = '';
    let name = '';
    let deltas = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
        deltas += 1;
      }
      finish = choice?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(deltas).toBeGreaterThan(3);
    expect(JSON.parse(args)).toEqual({ city: 'sample city', days: 1, unit: 'c' });
    expect(finish).toBe('tool_calls');
  });

  it('reassembles through the SDK stream helper, then answers the tool result with text', async () => {
    const final = await client.chat.completions
      .stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'call tool now' }], tools: [weatherTool] })
      .finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'call tool now' },
        { role: 'assistant', content: null, tool_calls: call ? [call] : [] },
        { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny, 21C' },
      ],
    });
    expect(res.choices[0].message.content).toBe('Tool result: sunny, 21C');
  });

  it('calls each tool a prompt names in one turn, streamed one after the other, unless parallel_tool_calls is false', async () => {
    const timeTool: OpenAI.Chat.ChatCompletionTool = {
      type: 'function',
      function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
    };
    const ask = {
      model: 'gpt-4o',
      messages: [{ role: 'user' as const, content: 'call tool get_time, then get_weather' }],
      tools: [weatherTool, timeTool],
    };
    const names = (calls: OpenAI.ChatCompletionMessageToolCall[] | undefined) =>
      (calls ?? []).map((c) => (c.type === 'function' ? c.function.name : c.type));
    const json = await client.chat.completions.create(ask);
    expect(names(json.choices[0].message.tool_calls)).toEqual(['get_time', 'get_weather']);
    expect(new Set(json.choices[0].message.tool_calls?.map((c) => c.id)).size).toBe(2);
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    const order: Array<number | undefined> = [];
    for await (const chunk of stream)
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) order.push(call.index);
    expect(order).toEqual([...order].sort());
    expect(new Set(order)).toEqual(new Set([0, 1]));
    const single = await client.chat.completions.create({ ...ask, parallel_tool_calls: false });
    expect(names(single.choices[0].message.tool_calls)).toEqual(['get_time']);
  });

  it('with interleaveToolCalls, streams every call’s start first, then their arguments taking turns', async () => {
    fake.enqueue({ interleaveToolCalls: true });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'call tool get_time, then get_weather' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_time', parameters: { type: 'object', properties: { timezone: { type: 'string' } } } },
        },
        weatherTool,
      ],
    });
    const order: number[] = [];
    const args = ['', ''];
    for await (const chunk of stream)
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        order.push(call.index);
        args[call.index] += call.function?.arguments ?? '';
      }
    expect(order.slice(0, 4)).toEqual([0, 1, 0, 1]);
    expect(args.map((text) => typeof JSON.parse(text))).toEqual(['object', 'object']);
  });

  it('streams n choices taking turns, each with its index and finish', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'two of them' }],
      n: 2,
      stream: true,
    });
    const texts = ['', ''];
    const finishes: Array<string | null> = [null, null];
    const indexes: number[] = [];
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        indexes.push(choice.index);
        texts[choice.index] += choice.delta.content ?? '';
        finishes[choice.index] = choice.finish_reason ?? finishes[choice.index];
      }
    }
    expect(texts).toEqual(['Echo: two of them', 'Echo: two of them']);
    expect(finishes).toEqual(['stop', 'stop']);
    expect(indexes.slice(0, 4)).toEqual([0, 1, 0, 1]);
  });

  it('gives logprobs when asked, in JSON and per streamed piece, top_logprobs the sampled token first', async () => {
    const ask = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi there' }] };
    expect((await client.chat.completions.create(ask)).choices[0].logprobs).toBeNull();
    const json = await client.chat.completions.create({ ...ask, logprobs: true, top_logprobs: 2 });
    const content = json.choices[0].logprobs?.content ?? [];
    expect(content.map((t) => t.token).join('')).toBe(json.choices[0].message.content);
    for (const token of content) {
      expect(token.logprob).toBeLessThan(0);
      expect(token.bytes).toEqual([...Buffer.from(token.token)]);
      expect(token.top_logprobs).toHaveLength(2);
      expect(token.top_logprobs[0]).toMatchObject({ token: token.token, logprob: token.logprob });
    }
    const streamed = await client.chat.completions
      .stream({ ...ask, logprobs: true, top_logprobs: 2 })
      .finalChatCompletion();
    expect(streamed.choices[0].logprobs?.content).toEqual(content);
  });

  it('legacy completions: a choice per prompt and n, prompt-major, in JSON and streamed taking turns', async () => {
    const ask = { model: 'gpt-3.5-turbo-instruct', prompt: ['one', 'two'], n: 2 };
    const json = await client.completions.create(ask);
    expect(json.choices.map((c) => [c.index, c.text])).toEqual([
      [0, 'Echo: one'],
      [1, 'Echo: one'],
      [2, 'Echo: two'],
      [3, 'Echo: two'],
    ]);
    const texts = ['', '', '', ''];
    const finishes: Array<string | null> = [];
    for await (const chunk of await client.completions.create({ ...ask, stream: true })) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.text;
        if (choice.finish_reason) finishes[choice.index] = choice.finish_reason;
      }
    }
    expect(texts).toEqual(json.choices.map((c) => c.text));
    expect(finishes).toEqual(['stop', 'stop', 'stop', 'stop']);
    const tokens = await client.completions.create({ model: 'm', prompt: [[1, 2], [3]] });
    expect(tokens.choices.map((c) => c.text)).toEqual(['Echo: 1 2', 'Echo: 3']);
  });

  it('answers json_schema with an object built from the schema', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'extract' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              age: { type: 'integer' },
              tags: { type: 'array', items: { type: 'string' } },
              address: { $ref: '#/$defs/address' },
            },
            required: ['name', 'age', 'tags', 'address'],
            $defs: { address: { type: 'object', properties: { zip: { type: 'string' } }, required: ['zip'] } },
          },
        },
      },
    });
    expect(JSON.parse(res.choices[0].message.content ?? '')).toEqual({
      name: 'sample name',
      age: 42,
      tags: ['sample tags'],
      address: { zip: 'sample zip' },
    });
  });

  it('reports cached tokens for a long prompt with a cache hint, and honours max_tokens and stop', async () => {
    const long = 'lorem ipsum '.repeat(30);
    const cached = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: long }],
      prompt_cache_key: 'tenant-1',
    });
    expect(cached.usage?.prompt_tokens_details?.cached_tokens).toBe(90);
    const limited = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'a long answer please' }],
      max_tokens: 2,
    });
    expect(limited.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Echo: a ' } });
    const stopped = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'one two three' }],
      stop: [' two'],
    });
    expect(stopped.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Echo: one' } });
  });

  it('with cachesPrefixes, caches a long prompt it has answered before without a hint, as OpenAI does, until reset', async () => {
    const caching = new FakeOpenAIServer({ cachesPrefixes: true });
    const client = new OpenAI({ baseURL: await caching.start(), apiKey: 'sk-test', maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'dolor sit '.repeat(40) }],
      });
    expect((await ask()).usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    expect((await ask()).usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(0);
    caching.reset();
    expect((await ask()).usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    await caching.close();
  });

  it('returns deterministic embeddings, as floats and as base64', async () => {
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
      encoding_format: 'float',
    });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0].embedding).toHaveLength(8);
    expect(Math.hypot(...floats.data[0].embedding)).toBeCloseTo(1, 5);
    expect(floats.data[0].embedding).not.toEqual(floats.data[1].embedding);
    // Without encoding_format the SDK asks for base64 and decodes it itself.
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha' });
    expect(fake.lastRequest?.body).toMatchObject({ encoding_format: 'base64' });
    expect(decoded.data[0].embedding).toEqual(floats.data[0].embedding);
    const sized = await client.embeddings.create({
      model: 'e',
      input: 'alpha',
      dimensions: 32,
      encoding_format: 'float',
    });
    expect(sized.data[0].embedding).toHaveLength(32);
    expect(sized.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it('serves legacy completions as JSON and as a stream', async () => {
    const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]).toMatchObject({ text: 'Echo: Say hi', finish_reason: 'stop' });
    const stream = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hi',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Echo: Say hi');
    expect(usage?.completion_tokens).toBe(3);
  });

  it('lists and retrieves models', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']);
    await expect(client.models.retrieve('gpt-4o')).resolves.toMatchObject({ id: 'gpt-4o', owned_by: 'openai' });
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404 });
  });
});

describe('FakeOpenAIServer stand-ins for Azure and Gemini', () => {
  const azure = new FakeOpenAIServer({ apiKey: 'azure-key' });
  const gemini = new FakeOpenAIServer({ basePath: '/v1beta/openai' });

  beforeAll(async () => {
    await azure.start();
    await gemini.start();
  });
  afterAll(async () => {
    await azure.close();
    await gemini.close();
  });

  it('serves the Azure deployment path with the api-key header', async () => {
    const client = new AzureOpenAI({
      endpoint: azure.origin,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'my-gpt4o',
      maxRetries: 0,
    });
    const res = await client.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('Echo: hi');
    const seen = azure.lastRequest;
    expect(seen?.path).toBe('/openai/deployments/my-gpt4o/chat/completions');
    expect(seen?.query['api-version']).toBe('2024-10-21');
    expect(seen?.headers['api-key']).toBe('azure-key');
    const wrong = new AzureOpenAI({
      endpoint: azure.origin,
      apiKey: 'bad',
      apiVersion: 'v',
      deployment: 'd',
      maxRetries: 0,
    });
    await expect(wrong.chat.completions.create({ model: '', messages: [] })).rejects.toMatchObject({ status: 401 });
  });

  it('serves the Gemini OpenAI layer under its base path', async () => {
    const client = new OpenAI({ baseURL: gemini.baseURL, apiKey: 'g', maxRetries: 0 });
    expect(gemini.baseURL).toMatch(/\/v1beta\/openai$/);
    const res = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0].message.content).toBe('Echo: hi');
  });
});

describe('FakeOpenAIServer with strictArguments', () => {
  const fake = new FakeOpenAIServer({ strictArguments: true });
  let client: OpenAI;
  beforeAll(async () => {
    client = new OpenAI({ baseURL: await fake.start(), apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it('refuses an argument OpenAI does not define, as OpenAI does, and takes those it does', async () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const ok = await client.chat.completions.create({ model: 'gpt-4o', messages, seed: 1, service_tier: 'default' });
    expect(ok.choices[0].message.content).toBe('Echo: hi');
    const refused = client.chat.completions.create({ model: 'gpt-4o', messages, top_k: 3 } as never);
    await expect(refused).rejects.toMatchObject({
      status: 400,
      error: { message: 'Unrecognized request argument supplied: top_k', type: 'invalid_request_error' },
    });
  });
});
