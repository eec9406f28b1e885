import type { ChatChunk, CompletionChunk } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import type { ProviderAdapter, ProviderConfig } from '../provider.interface';
import { UpstreamShapeError } from '../shared/http';
import { adapterOnLocalServer, callContext, sendJson, sendSse } from '../testing/local-server';
import { OpenAIChunkNormalizer } from './openai.stream';

/** Streams as the look-alike servers send them, recorded from their wire format. */

const base = { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1760000000, model: 'm-1' };
const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };

/** Azure OpenAI: a content-filter annotation first, `content_filter_results` on every choice. */
const azureEvents: Array<[null, unknown]> = [
  [
    null,
    {
      id: '',
      object: '',
      created: 0,
      model: '',
      choices: [],
      prompt_filter_results: [
        { prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } },
      ],
    },
  ],
  [null, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }],
  [
    null,
    { ...base, choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null, content_filter_results: {} }] },
  ],
  [null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop', content_filter_results: {} }] }],
  [null, { ...base, choices: [], usage }],
  [null, '[DONE]'],
];

/** Gemini's OpenAI endpoint: usage on the last choice's chunk, tool calls finished with `stop`. */
const geminiEvents: Array<[null, unknown]> = [
  [null, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' } }] }],
  [
    null,
    {
      ...base,
      choices: [{ index: 0, delta: { role: 'assistant', content: ' there' }, finish_reason: 'stop' }],
      usage,
    },
  ],
  [null, '[DONE]'],
];

const call = (id: string, city: string, index?: number) => ({
  ...(index === undefined ? {} : { index }),
  id,
  type: 'function',
  function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
});

/** Ollama before 0.5: whole tool calls without `index`, the turn finished with `stop`. */
const ollamaEvents: Array<[null, unknown]> = [
  [
    null,
    {
      ...base,
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta: { role: 'assistant', content: '', tool_calls: [call('call_a', 'Paris')] } }],
    },
  ],
  [
    null,
    {
      ...base,
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta: { role: 'assistant', content: '', tool_calls: [call('call_b', 'Rome')] } }],
    },
  ],
  [
    null,
    {
      ...base,
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }],
    },
  ],
  [null, { ...base, system_fingerprint: 'fp_ollama', choices: [], usage }],
  [null, '[DONE]'],
];

const start = adapterOnLocalServer({ name: 'up', kind: 'openai', apiKey: 'k' });

async function setup(events: Array<[null, unknown]>, config: Partial<ProviderConfig>): Promise<ProviderAdapter> {
  return (await start((_req, res) => sendSse(res, events), config)).adapter;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const ask = { model: 'm-1', messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('OpenAI-shaped streams of look-alike servers, as OpenAI sends them', () => {
  it("azure-openai: the content-filter chunk without choices is not passed on (clients read every chunk's choices[0])", async () => {
    const stream = await setup(azureEvents, { kind: 'azure-openai', options: { deployments: {} } });
    const chunks = await collect(stream.chatStream(ask, callContext()));
    expect(chunks.map((c) => [c.id, c.object, c.model])).toEqual(
      chunks.map(() => ['chatcmpl-7', 'chat.completion.chunk', 'm-1']),
    );
    expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage });
  });

  it('azure-openai: legacy completion streams lose the content-filter chunk too', async () => {
    const textBase = { id: 'cmpl-7', object: 'text_completion', created: 1, model: 'm-1' };
    const stream = await setup(
      [
        [null, { id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [] }],
        [null, { ...textBase, choices: [{ index: 0, text: 'Hi', finish_reason: 'stop', logprobs: null }] }],
        [null, { ...textBase, choices: [], usage }],
        [null, '[DONE]'],
      ],
      { kind: 'azure-openai' },
    );
    const chunks: CompletionChunk[] = await collect(
      stream.completionStream!({ model: 'm-1', prompt: 'x' }, callContext()),
    );
    expect(chunks.map((c) => c.choices.length)).toEqual([1, 0]);
    expect(chunks[1].usage).toEqual(usage);
  });

  it('gemini: usage given with the last choice comes last, alone, with choices: []', async () => {
    const stream = await setup(geminiEvents, { kind: 'gemini' });
    const chunks: ChatChunk[] = await collect(stream.chatStream(ask, callContext()));
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['Hi', ' there', undefined]);
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
    expect(chunks.at(-1)).toEqual({ ...base, choices: [], usage });
  });

  it('ollama: tool calls without index are numbered, and the turn finishes with tool_calls', async () => {
    const stream = await setup(ollamaEvents, { kind: 'ollama' });
    const chunks: ChatChunk[] = await collect(stream.chatStream(ask, callContext()));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((c) => [c.index, c.id])).toEqual([
      [0, 'call_a'],
      [1, 'call_b'],
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('parallel calls all numbered 0 get an index each; argument fragments follow their call', async () => {
    const stream = await setup(
      [
        [
          null,
          {
            ...base,
            choices: [
              { index: 0, delta: { tool_calls: [{ ...call('c1', 'A', 0), function: { name: 'f', arguments: '' } }] } },
            ],
          },
        ],
        [
          null,
          { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] } }] },
        ],
        [
          null,
          {
            ...base,
            choices: [
              { index: 0, delta: { tool_calls: [{ ...call('c2', 'B', 0), function: { name: 'f', arguments: '' } }] } },
            ],
          },
        ],
        [
          null,
          {
            ...base,
            choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] } }],
          },
        ],
        [null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }],
        [null, '[DONE]'],
      ],
      { kind: 'openai-compatible' },
    );
    const chunks: ChatChunk[] = await collect(stream.chatStream(ask, callContext()));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((c) => [c.index, c.id ?? null, c.function?.arguments])).toEqual([
      [0, 'c1', ''],
      [0, null, '{}'],
      [1, 'c2', ''],
      [1, null, '{"a":1}'],
    ]);
  });

  it('a tool call begun without its id gets one, which the openai SDK stream helpers need; its fragments keep none', async () => {
    const delta = (toolCall: object) => [null, { ...base, choices: [{ index: 0, delta: { tool_calls: [toolCall] } }] }];
    const stream = await setup(
      [
        delta({ index: 0, type: 'function', function: { name: 'f', arguments: '' } }),
        delta({ index: 0, function: { arguments: '{}' } }),
        delta({ index: 1, id: 'c2', type: 'function', function: { name: 'g', arguments: '{}' } }),
        [null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }],
        [null, '[DONE]'],
      ] as Array<[null, unknown]>,
      { kind: 'openai-compatible' },
    );
    const chunks: ChatChunk[] = await collect(stream.chatStream(ask, callContext()));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((c) => [c.index, c.id ?? null])).toEqual([
      [0, expect.stringMatching(/^call_[0-9a-f]{24}$/)],
      [0, null],
      [1, 'c2'],
    ]);
    expect(calls[0].type).toBe('function');
  });

  it('whole calls without index or id, several in one chunk (Gemini), each get their own index and id', async () => {
    const whole = (name: string, args: string) => ({ type: 'function', function: { name, arguments: args } });
    const stream = await setup(
      [
        [
          null,
          {
            ...base,
            choices: [
              {
                index: 0,
                delta: { tool_calls: [whole('get_weather', '{"city":"Paris"}'), whole('get_time', '{"tz":"CET"}')] },
              },
            ],
          },
        ],
        [null, { ...base, choices: [{ index: 0, delta: { tool_calls: [whole('get_date', '{}')] } }] }],
        [null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }],
        [null, '[DONE]'],
      ],
      { kind: 'gemini' },
    );
    const chunks: ChatChunk[] = await collect(stream.chatStream(ask, callContext()));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((c) => [c.index, c.function?.name, c.function?.arguments])).toEqual([
      [0, 'get_weather', '{"city":"Paris"}'],
      [1, 'get_time', '{"tz":"CET"}'],
      [2, 'get_date', '{}'],
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(3);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('JSON answers too: a tool call without id gets one, arguments sent as an object are their JSON text', async () => {
    const answer = {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { type: 'function', function: { name: 'get_weather', arguments: { city: 'P' } } },
              { id: 'c2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage,
    };
    const { adapter } = await start((_req, res) => sendJson(res, 200, answer), { kind: 'openai-compatible' });
    const res = await adapter.chat(ask, callContext());
    const calls = res.choices[0].message.tool_calls ?? [];
    expect(calls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9a-f]{24}$/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"P"}' },
      },
      { id: 'c2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  it("openai: OpenAI's own chunks pass through as sent, a tool turn's stop included", async () => {
    const events: Array<[null, unknown]> = [
      [null, { ...base, choices: [{ index: 0, delta: { tool_calls: [call('c1', 'A', 0)] }, finish_reason: null }] }],
      [null, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }],
      [null, { ...base, choices: [], usage }],
      [null, '[DONE]'],
    ];
    const stream = await setup(events, { kind: 'openai' });
    expect(await collect(stream.chatStream(ask, callContext()))).toEqual(events.slice(0, 3).map(([, data]) => data));
  });
});

describe('OpenAIChunkNormalizer: events that are no chunk', () => {
  const normalizer = () => new OpenAIChunkNormalizer(false);

  it.each([
    ['a number', 42],
    ['an array', [1, 2]],
    ['choices that are null', { ...base, choices: null }],
    ['a choice that is null', { ...base, choices: [null] }],
    ['a choice that is text', { ...base, choices: ['hi'] }],
  ])('%s is an invalid answer (a 502 a route falls back from)', (_name, event) => {
    expect(() => normalizer().push(event)).toThrow(UpstreamShapeError);
  });

  it('an event without choices is a usage chunk when it carries usage, else dropped', () => {
    expect(normalizer().push({ ...base, usage })).toEqual({ ...base, usage, choices: [] });
    expect(normalizer().push({ ...base })).toBeUndefined();
  });
});
