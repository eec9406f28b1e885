import {
  type ChatChunk,
  type ChatRequest,
  type CompletionChunk,
  type CompletionRequest,
  GatewayError,
} from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { isClientAbort } from '../errors';
import { callContext } from '../testing/local-server';
import { MAX_SAMPLE_CHARS, sampleFromSchema } from './json-from-schema';
import { MAX_MOCK_EMBEDDING_DIMENSIONS, MAX_MOCK_EMBEDDING_VALUES, MockAdapter } from './mock.adapter';

const mock = new MockAdapter({ name: 'mock', kind: 'mock' });
const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] }, days: { type: 'integer' } },
      required: ['city', 'unit'],
    },
  },
};
const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'echo-1',
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'user', content },
  ],
  ...extra,
});

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** A conversation whose last turn is the result (`21C`) of a call of `get_weather`. */
const afterWeatherCall: ChatRequest['messages'] = [
  { role: 'user', content: 'call tool' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
  },
  { role: 'tool', tool_call_id: 'c1', content: '21C' },
];

/** Two tools, `get_time` and `get_weather`, of which `allowed_tools` lets the model call only `get_weather`. */
const onlyWeatherAllowed = (mode: 'auto' | 'required'): Partial<ChatRequest> => ({
  tools: [{ ...weather, function: { ...weather.function, name: 'get_time' } }, weather],
  tool_choice: {
    type: 'allowed_tools',
    allowed_tools: { mode, tools: [{ type: 'function', function: { name: 'get_weather' } }] },
  },
});

describe('MockAdapter', () => {
  it('echoes the last user message, deterministically', async () => {
    const a = await mock.chat(ask('hello there'), callContext());
    const b = await mock.chat(ask('hello there'), callContext());
    expect(a.choices[0].message.content).toBe('[mock] hello there');
    expect(a.id).toBe(b.id);
    expect(a.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 3,
      total_tokens: 6,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it.each<[string, Partial<ChatRequest>, boolean]>([
    ['please call tool get_weather', { tools: [weather] }, true],
    ['hello', { tools: [weather] }, false],
    ['hello', { tools: [weather], tool_choice: 'required' }, true],
    ['call tool', { tools: [weather], tool_choice: 'none' }, false],
    ['call tool', {}, false],
    ['hello', onlyWeatherAllowed('required'), true],
    ['call tool get_time', onlyWeatherAllowed('auto'), true],
  ])('%j with %j calls a tool: %s', async (text, extra, calls) => {
    const choice = (await mock.chat(ask(text, extra), callContext())).choices[0];
    expect(choice.finish_reason).toBe(calls ? 'tool_calls' : 'stop');
    if (calls) {
      expect(choice.message.tool_calls?.[0]).toMatchObject({
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"mock","unit":"c"}' },
      });
    }
  });

  it('reports a tool result instead of calling the tool again', async () => {
    const request: ChatRequest = {
      model: 'echo-tools',
      tools: [weather],
      messages: afterWeatherCall,
    };
    expect((await mock.chat(request, callContext())).choices[0].message.content).toBe('[mock] tool result: 21C');
  });

  it('answers json_schema after tool results with an object built from the schema, not the results as text', async () => {
    const schema = { type: 'object', properties: { forecast: { type: 'string' } }, required: ['forecast'] };
    const request: ChatRequest = {
      model: 'echo-tools',
      tools: [weather],
      response_format: { type: 'json_schema', json_schema: { name: 'report', schema } },
      messages: afterWeatherCall,
    };
    const content = (await mock.chat(request, callContext())).choices[0].message.content;
    expect(JSON.parse(content ?? '')).toEqual({ forecast: expect.any(String) });
  });

  it('answers json_schema with an object built from the schema', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer', minimum: 18 },
        tags: { type: 'array', items: { type: 'string' } },
      },
    };
    const response = await mock.chat(
      ask('x', { response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } }),
      callContext(),
    );
    expect(JSON.parse(response.choices[0].message.content ?? '')).toEqual({ name: 'mock', age: 18, tags: ['mock'] });
  });

  it('streams word by word, then the finish and usage chunks', async () => {
    const chunks = await collect(mock.chatStream(ask('one two three'), callContext()));
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual([
      '',
      '[mock]',
      ' one',
      ' two',
      ' three',
      undefined,
      undefined,
    ]);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
  });

  it('streams a tool call', async () => {
    const chunks = await collect(mock.chatStream(ask('call tool', { tools: [weather] }), callContext()));
    expect(chunks[1].choices[0].delta.tool_calls?.[0]).toMatchObject({
      index: 0,
      function: { name: 'get_weather', arguments: '' },
    });
    expect(chunks[2].choices[0].delta.tool_calls?.[0].function?.arguments).toBe('{"city":"mock","unit":"c"}');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('calls each tool the prompt names in one turn, in its order; one with parallel_tool_calls false', async () => {
    const time = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object' } } };
    const both = ask('call tool get_time and get_weather', { tools: [weather, time] });
    const message = (await mock.chat(both, callContext())).choices[0].message;
    expect(message.tool_calls?.map((call) => call.type === 'function' && call.function.name)).toEqual([
      'get_time',
      'get_weather',
    ]);
    expect(new Set(message.tool_calls?.map((call) => call.id)).size).toBe(2);
    const chunks = await collect(mock.chatStream(both, callContext()));
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.map((delta) => [delta.index, delta.function?.name])).toEqual([
      [0, 'get_time'],
      [0, undefined],
      [1, 'get_weather'],
      [1, undefined],
    ]);
    const single = await mock.chat({ ...both, parallel_tool_calls: false }, callContext());
    expect(single.choices[0].message.tool_calls).toHaveLength(1);
    const results = await mock.chat(
      {
        ...both,
        messages: [
          ...both.messages,
          { role: 'assistant', content: null, tool_calls: message.tool_calls },
          { role: 'tool', tool_call_id: 'a', content: 'Noon' },
          { role: 'tool', tool_call_id: 'b', content: 'Rain' },
        ],
      },
      callContext(),
    );
    expect(results.choices[0].message.content).toBe('[mock] tool result: Noon; Rain');
  });

  it('ends a text at stop and after max_completion_tokens (else max_tokens) words, finish as models do', async () => {
    const stopped = await mock.chat(ask('one two three', { stop: ['two'] }), callContext());
    expect(stopped.choices[0]).toMatchObject({ message: { content: '[mock] one ' }, finish_reason: 'stop' });
    // The sequence that ended it, named as vLLM names it (the Messages API reports it as stop_sequence).
    expect(stopped.choices[0]).toMatchObject({ stop_reason: 'two' });
    const streamed = await collect(mock.chatStream(ask('one two three', { stop: ['three', 'two'] }), callContext()));
    expect(streamed.at(-2)?.choices[0]).toMatchObject({ finish_reason: 'stop', stop_reason: 'two' });
    const limit = { max_tokens: 50, max_completion_tokens: 2 };
    const cut = await mock.chat(ask('one two three', limit), callContext());
    expect(cut.choices[0]).toMatchObject({ message: { content: '[mock] one' }, finish_reason: 'length' });
    expect(cut.usage?.completion_tokens).toBe(2);
    const chunks = await collect(mock.chatStream(ask('one two three', { max_tokens: 2 }), callContext()));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('[mock] one');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('length');
  });

  it('refuses logprobs, which it has none of, with a 400 naming them', async () => {
    await expect(mock.chat(ask('x', { logprobs: true }), callContext())).rejects.toMatchObject({ param: 'logprobs' });
    await expect(collect(mock.chatStream(ask('x', { top_logprobs: 1 }), callContext()))).rejects.toMatchObject({
      param: 'top_logprobs',
    });
    const legacy = { model: 'echo-1', prompt: 'x', logprobs: 0 };
    await expect(mock.completion(legacy, callContext())).rejects.toMatchObject({ param: 'logprobs' });
  });

  it('refuses audio output, which it has none of, with a 400 naming the field (never text alone as if asked for it)', async () => {
    const voice = { voice: 'alloy', format: 'wav' };
    await expect(
      mock.chat(ask('x', { modalities: ['text', 'audio'], audio: voice } as Partial<ChatRequest>), callContext()),
    ).rejects.toMatchObject({ status: 400, param: 'modalities' });
    await expect(
      collect(mock.chatStream(ask('x', { audio: voice } as Partial<ChatRequest>), callContext())),
    ).rejects.toMatchObject({ status: 400, param: 'audio' });
    await expect(mock.chat(ask('x', { modalities: ['text'] }), callContext())).resolves.toBeTruthy();
  });

  it('legacy completions: a batch of prompts is bounded like n (it built a 60 MB answer for 750k empty prompts)', async () => {
    const batch = (count: number) => ({ model: 'echo-1', prompt: Array.from({ length: count }, () => ''), n: 1 });
    await expect(mock.completion(batch(10_001), callContext())).rejects.toMatchObject({ status: 400, param: 'prompt' });
    expect((await mock.completion(batch(100), callContext())).choices).toHaveLength(100);
    // Characters of all choices together, n = 1 too.
    const long = { model: 'echo-1', prompt: Array.from({ length: 3 }, () => 'x'.repeat(400_000)) };
    await expect(mock.completion(long, callContext())).rejects.toMatchObject({ status: 400 });
  });

  it('legacy completions: echo puts the prompt first; stop and max_tokens end the text, JSON and streamed', async () => {
    const echoed = await mock.completion({ model: 'echo-1', prompt: 'one two', echo: true }, callContext());
    expect(echoed.choices[0].text).toBe('one two[mock] one two');
    expect(echoed.usage?.completion_tokens).toBe(3);
    const request = { model: 'echo-1', prompt: 'one two three', max_tokens: 2, n: 2 };
    const cut = await mock.completion(request, callContext());
    expect(cut.choices.map((c) => [c.text, c.finish_reason])).toEqual([
      ['[mock] one', 'length'],
      ['[mock:1] one', 'length'],
    ]);
    const chunks: CompletionChunk[] = [];
    for await (const chunk of mock.completionStream({ ...request, n: 1, stop: 'one' }, callContext()))
      chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('[mock] ');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
  });

  it('stops streaming with the abort marker when the client goes away', async () => {
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _chunk of mock.chatStream(ask('a b c d e'), callContext(controller.signal))) controller.abort();
    })().catch((err: unknown) => err);
    expect(isClientAbort(error)).toBe(true);
  });

  it('embeds deterministically, as floats or base64', async () => {
    const floats = await mock.embed({ model: 'echo-1', input: ['a', 'b'], dimensions: 4 }, callContext());
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0].embedding).toHaveLength(4);
    expect((await mock.embed({ model: 'echo-1', input: 'a', dimensions: 4 }, callContext())).data[0].embedding).toEqual(
      floats.data[0].embedding,
    );
    const b64 = await mock.embed(
      { model: 'echo-1', input: 'a', dimensions: 4, encoding_format: 'base64' },
      callContext(),
    );
    expect(typeof b64.data[0].embedding).toBe('string');
  });

  it('refuses embeddings larger than it builds, naming the parameter', async () => {
    const embed = (input: string | string[], dimensions: number) =>
      mock.embed({ model: 'echo-1', input, dimensions }, callContext());
    const inputs = Array.from({ length: 2048 }, (_, i) => `text ${i}`);
    await expect(embed('x', 3_000_000)).rejects.toMatchObject({
      code: 'invalid_request_error',
      status: 400,
      param: 'dimensions',
    });
    await expect(embed(inputs, 3072)).rejects.toMatchObject({ status: 400, param: 'input' });
    expect((await embed(['a', 'b'], MAX_MOCK_EMBEDDING_DIMENSIONS)).data[1].embedding).toHaveLength(3072);
    const most = MAX_MOCK_EMBEDDING_VALUES / 1024;
    expect((await embed(inputs.slice(0, most), 1024)).data).toHaveLength(most);
  });

  it('refuses a tool schema or response_format too large to sample, naming where it is', async () => {
    const huge = { type: 'object', properties: { a: { type: 'array', minItems: 100_000_000 } }, required: ['a'] };
    const tool = { type: 'function' as const, function: { name: 'big', parameters: huge } };
    const forced = { type: 'function' as const, function: { name: 'big' } };
    const started = performance.now();
    await expect(
      mock.chat(ask('x', { tools: [weather, tool], tool_choice: forced }), callContext()),
    ).rejects.toMatchObject({ code: 'invalid_request_error', status: 400, param: 'tools[1].function.parameters' });
    await expect(
      collect(mock.chatStream(ask('x', { tools: [tool], tool_choice: 'required' }), callContext())),
    ).rejects.toMatchObject({ param: 'tools[0].function.parameters' });
    const format = { type: 'json_schema' as const, json_schema: { name: 'r', schema: huge } };
    await expect(mock.chat(ask('x', { response_format: format }), callContext())).rejects.toMatchObject({
      param: 'response_format.json_schema.schema',
    });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('answers n choices told apart, choice 0 as without n, in JSON and streamed, with usage for all', async () => {
    const json = await mock.chat(ask('one two', { n: 3 }), callContext());
    expect(json.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, '[mock] one two', 'stop'],
      [1, '[mock:1] one two', 'stop'],
      [2, '[mock:2] one two', 'stop'],
    ]);
    expect(json.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 });
    const chunks = await collect(mock.chatStream(ask('one two', { n: 2, tools: [weather] }), callContext()));
    const texts = ['', ''];
    for (const choice of chunks.flatMap((c) => c.choices)) texts[choice.index] += choice.delta.content ?? '';
    expect(texts).toEqual(['[mock] one two', '[mock:1] one two']);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop').map((c) => c.choices[0].index)).toEqual([0, 1]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 6 } });
  });

  it('gives each of n tool calls its own id and arguments, still valid for the tool', async () => {
    const single = (await mock.chat(ask('call tool', { tools: [weather] }), callContext())).choices[0].message;
    const calls = (await mock.chat(ask('call tool', { n: 3, tools: [weather] }), callContext())).choices.map(
      (c) => c.message.tool_calls?.[0],
    );
    expect(calls[0]).toEqual(single.tool_calls?.[0]);
    expect(calls.map((c) => c?.id)).toEqual([
      single.tool_calls?.[0].id,
      `${single.tool_calls?.[0].id}_1`,
      `${single.tool_calls?.[0].id}_2`,
    ]);
    expect(calls.map((c) => (c?.type === 'function' ? JSON.parse(c.function.arguments) : undefined))).toEqual([
      { city: 'mock', unit: 'c' },
      { city: 'mock1', unit: 'f' },
      { city: 'mock2', unit: 'c' },
    ]);
    const streamed = await collect(mock.chatStream(ask('call tool', { n: 2, tools: [weather] }), callContext()));
    const ids = streamed.flatMap((c) => c.choices.flatMap((choice) => choice.delta.tool_calls?.map((t) => t.id) ?? []));
    expect(ids.filter((id) => id !== undefined)).toEqual([calls[0]?.id, calls[1]?.id]);
  });

  it('answers n JSON values told apart where the schema allows, each valid, choice 0 as without n', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, size: { type: 'integer', minimum: 1, maximum: 2 }, fixed: { const: 7 } },
      required: ['name', 'size', 'fixed'],
      additionalProperties: false,
    };
    const format = { type: 'json_schema' as const, json_schema: { name: 'thing', schema } };
    const single = await mock.chat(ask('x', { response_format: format }), callContext());
    const many = await mock.chat(ask('x', { response_format: format, n: 3 }), callContext());
    const values = many.choices.map((c) => JSON.parse(c.message.content ?? ''));
    expect(many.choices[0].message.content).toBe(single.choices[0].message.content);
    expect(values).toEqual([
      { name: 'mock', size: 1, fixed: 7 },
      { name: 'mock1', size: 2, fixed: 7 },
      { name: 'mock2', size: 1, fixed: 7 },
    ]);
    // A schema with one value only: every choice answers it.
    const only = { type: 'json_schema' as const, json_schema: { name: 'one', schema: { const: 'only' } } };
    const same = await mock.chat(ask('x', { response_format: only, n: 2 }), callContext());
    expect(same.choices.map((c) => c.message.content)).toEqual(['"only"', '"only"']);
    const object = await mock.chat(ask('x', { response_format: { type: 'json_object' }, n: 2 }), callContext());
    expect(object.choices.map((c) => JSON.parse(c.message.content ?? ''))).toEqual([
      { echo: 'x' },
      { echo: 'x', choice: 1 },
    ]);
  });

  it('refuses n copies of a reply longer than it writes, naming n', async () => {
    const long = 'word '.repeat(100_000);
    await expect(mock.chat(ask(long, { n: 3 }), callContext())).rejects.toMatchObject({
      code: 'invalid_request_error',
      status: 400,
      param: 'n',
    });
    await expect(mock.completion({ model: 'echo-1', prompt: [long, 'x'], n: 2 }, callContext())).rejects.toMatchObject({
      param: 'n',
    });
    expect((await mock.chat(ask(long), callContext())).choices).toHaveLength(1);
  });

  it.each<[string, CompletionRequest['prompt'], number, string[], number]>([
    ['a text', 'say hi', 1, ['[mock] say hi'], 2],
    ['a text, n times, told apart', 'say hi', 2, ['[mock] say hi', '[mock:1] say hi'], 2],
    ['a batch of texts', ['a', 'b c'], 1, ['[mock] a', '[mock] b c'], 3],
    ['a batch, n times each, prompt-major', ['a', 'b'], 2, ['[mock] a', '[mock:1] a', '[mock] b', '[mock:1] b'], 2],
    ['token ids', [1, 2, 3], 1, ['[mock] 1 2 3'], 3],
    ['a batch of token ids', [[1, 2], [3]], 1, ['[mock] 1 2', '[mock] 3'], 3],
  ])('legacy completions answer %s', async (_name, prompt, n, texts, promptTokens) => {
    const json = await mock.completion({ model: 'echo-1', prompt, n }, callContext());
    expect(json.choices.map((c) => [c.index, c.text])).toEqual(texts.map((text, i) => [i, text]));
    const completionTokens = texts.reduce((sum, text) => sum + text.split(' ').length, 0);
    expect(json.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: completionTokens });
    const streamed = texts.map(() => '');
    let usage: CompletionChunk['usage'];
    for await (const chunk of mock.completionStream({ model: 'echo-1', prompt, n }, callContext())) {
      for (const choice of chunk.choices) streamed[choice.index] += choice.text;
      usage = chunk.usage ?? usage;
    }
    expect(streamed).toEqual(texts);
    expect(usage).toEqual(json.usage);
    expect((await mock.completion({ model: 'echo-1', prompt, n }, callContext())).id).toBe(json.id);
  });

  it('lists its models, labelled as mock', async () => {
    const models = await mock.listModels();
    expect(models.map((m) => m.id)).toEqual(['echo-1', 'echo-tools']);
    expect(models.every((m) => m.description?.startsWith('[mock]'))).toBe(true);
  });
});

describe('sampleFromSchema', () => {
  it.each<[string, unknown, 'required' | 'all', unknown]>([
    [
      'enum and const',
      { type: 'object', properties: { a: { enum: ['x', 'y'] }, b: { const: 3 } }, required: ['a', 'b'] },
      'required',
      { a: 'x', b: 3 },
    ],
    [
      'only required',
      { type: 'object', properties: { a: { type: 'string' }, b: { type: 'boolean' } }, required: ['b'] },
      'required',
      { b: true },
    ],
    ['nullable types', { type: 'object', properties: { a: { type: ['null', 'number'] } } }, 'all', { a: 1 }],
    [
      '$ref',
      {
        type: 'object',
        properties: { p: { $ref: '#/$defs/P' } },
        $defs: { P: { type: 'object', properties: { d: { type: 'string', format: 'date' } } } },
      },
      'all',
      { p: { d: '2024-01-01' } },
    ],
    ['anyOf', { anyOf: [{ type: 'integer' }, { type: 'string' }] }, 'all', 1],
  ])('%s', (_name, schema, properties, expected) => {
    expect(sampleFromSchema(schema, { properties, param: 'schema' })).toEqual(expected);
  });

  const nested = (levels: number, minItems: number): unknown =>
    levels === 0 ? { type: 'string' } : { type: 'array', minItems, items: nested(levels - 1, minItems) };
  const fanOut = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${i}`, { $ref: '#/$defs/node' }]));
  const tree = { $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: fanOut } } };
  /** `$defs` l0 -> l1 -> ... each an object whose 12 required properties are the next level. */
  const levels = (depth: number) => {
    const defs: Record<string, unknown> = { [`l${depth}`]: { type: 'string' } };
    for (let i = 0; i < depth; i++) {
      const next = Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`p${k}`, { $ref: `#/$defs/l${i + 1}` }]));
      defs[`l${i}`] = { type: 'object', properties: next, required: Object.keys(next) };
    }
    return { $ref: '#/$defs/l0', $defs: defs };
  };

  it.each<[string, unknown]>([
    ['minItems in the millions', { type: 'array', items: { type: 'string' }, minItems: 100_000_000 }],
    ['items times nesting', nested(6, 12)],
    ['required properties fanning out through $refs', levels(8)],
    [
      'a long property name, repeated',
      { type: 'array', minItems: 100, items: { type: 'object', properties: { ['k'.repeat(5000)]: { type: 'null' } } } },
    ],
    ['a large const, repeated', { type: 'array', minItems: 100, items: { const: 'c'.repeat(5000) } }],
    ['a large enum member, repeated', { type: 'array', minItems: 100, items: { enum: ['e'.repeat(5000)] } }],
  ])('refuses %s with a 400 naming the schema, at once', (_name, schema) => {
    const started = performance.now();
    let thrown: unknown;
    try {
      sampleFromSchema(schema, { properties: 'all', param: 'response_format.json_schema.schema' });
    } catch (err) {
      thrown = err;
    }
    expect(performance.now() - started).toBeLessThan(3000);
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({
      code: 'invalid_request_error',
      status: 400,
      param: 'response_format.json_schema.schema',
      message: expect.stringContaining(`at most ${MAX_SAMPLE_CHARS} characters`),
    });
  });

  it('samples anything that fits the budget', () => {
    const sample = sampleFromSchema(
      { type: 'array', minItems: 5000, items: { type: 'object', properties: { n: { type: 'integer' } } } },
      { properties: 'all', param: 'schema' },
    ) as unknown[];
    expect(sample).toHaveLength(5000);
    expect(JSON.stringify(sample).length).toBeLessThanOrEqual(MAX_SAMPLE_CHARS);
    expect(sampleFromSchema(tree, { properties: 'required', param: 'p' })).toEqual({});
    // A recursive fan-out ends where it recurses: there, only what is required is built.
    expect(sampleFromSchema(tree, { properties: 'all', param: 'p' })).toEqual(
      Object.fromEntries(Object.keys(fanOut).map((key) => [key, {}])),
    );
  });
});
