import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import type { AnthropicSseEvent, AnthropicStreamEvent, ChatChunk } from '@app/contracts';
import { anthropicStreamToChunks } from '@app/providers';
import { describe, expect, it } from 'vitest';
import { toolInput } from './anthropic-inbound.response';
import { chatChunksToAnthropicEvents } from './anthropic-inbound.stream';
import { chunker, fromArray, ndjson, usage } from './translate.fixtures';

const c = chunker();

async function collect(chunks: ChatChunk[], model = 'claude-sonnet-4-5'): Promise<AnthropicSseEvent[]> {
  const events: AnthropicSseEvent[] = [];
  for await (const event of chatChunksToAnthropicEvents(fromArray(chunks), model)) events.push(event);
  return events;
}

/** Events without the bulky message_start message, for sequence assertions. */
function outline(events: AnthropicSseEvent[]): unknown[] {
  return events.map(({ event, data }) => {
    const { type: _type, ...rest } = data;
    if (event === 'message_start' || event === 'ping' || event === 'message_stop') return event;
    return [event, rest];
  });
}

/** What an Anthropic SDK client ends up with after reading the events. */
function sdkMessage(events: AnthropicSseEvent[]) {
  return MessageStream.fromReadableStream(ndjson(events.map((e) => e.data))).finalMessage();
}

const textChunks = [
  c.delta({ role: 'assistant', content: '', refusal: null }),
  c.delta({ content: 'Hello' }),
  c.delta({ content: '!' }),
  c.delta({}, 'stop'),
  c.usage(usage(25, 15)),
];

const deltaUsage = (input: number, output: number, cached = 0) => ({
  input_tokens: input,
  output_tokens: output,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: cached,
  output_tokens_details: null,
  server_tool_use: null,
});
const endTurn = { stop_reason: 'end_turn', stop_sequence: null, stop_details: null, container: null };

describe('chatChunksToAnthropicEvents', () => {
  it('produces Anthropic’s sequence for a text answer', async () => {
    const events = await collect(textChunks);
    expect(outline(events)).toEqual([
      'message_start',
      ['content_block_start', { index: 0, content_block: { type: 'text', text: '', citations: null } }],
      'ping',
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: '!' } }],
      ['content_block_stop', { index: 0 }],
      ['message_delta', { delta: endTurn, usage: deltaUsage(25, 15) }],
      'message_stop',
    ]);
    expect(events.every((e) => e.event === e.data.type)).toBe(true);
    expect(events[0].data).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_AbC123stream',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        container: null,
        diagnostics: null,
        usage: expect.objectContaining({ input_tokens: 0, output_tokens: 0 }),
      },
    });
  });

  it('leaves out what a tool call streams after its arguments closed (an extra brace, a second object)', async () => {
    for (const [tail, sameFragment] of [
      ['}', false],
      [' trailing text', false],
      ['{"b":2}', false],
      ['}', true],
    ] as const) {
      const start = { index: 0, id: 'call_t', type: 'function' as const, function: { name: 'f', arguments: '' } };
      const args = sameFragment ? ['{"a":', `1}${tail}`] : ['{"a":', '1}', tail];
      const events = await collect([
        c.delta({ role: 'assistant', content: null, tool_calls: [start] }),
        ...args.map((piece) => c.delta({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
        c.delta({}, 'tool_calls'),
      ]);
      const message = await sdkMessage(events);
      expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'f', input: { a: 1 } })]);
    }
  });

  it('opens a tool call whose name comes after its id with that name (it was named "")', async () => {
    const events = await collect([
      c.delta({
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { arguments: '' } } as never],
      }),
      c.delta({ tool_calls: [{ index: 0, function: { name: 'get_weather' } }] }),
      c.delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      c.delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      c.delta({}, 'tool_calls'),
    ]);
    const message = await sdkMessage(events);
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }),
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('reads the choice of a server that numbers none (no index) as the first', async () => {
    const unnumbered = (delta: ChatChunk['choices'][number]['delta'], finish: string | null = null): ChatChunk => {
      const chunk = c.delta(delta) as ChatChunk & { choices: Array<Record<string, unknown>> };
      return { ...chunk, choices: [{ delta, finish_reason: finish }] } as unknown as ChatChunk;
    };
    const message = await sdkMessage(
      await collect([unnumbered({ content: 'Hello ' }), unnumbered({ content: 'world' }), unnumbered({}, 'stop')]),
    );
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hello world' })]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('streams thinking blocks in their own indices: thinking_delta, signature_delta, redacted whole', async () => {
    const signature = (sig: string) => ({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: sig }] });
    const thinking = (text: string) => ({
      reasoning_content: text,
      thinking_blocks: [{ type: 'thinking', thinking: text }],
    });
    const events = await collect([
      c.delta({ role: 'assistant', content: '' }),
      c.delta(thinking('Let me ') as ChatChunk['choices'][number]['delta']),
      c.delta(thinking('think.') as ChatChunk['choices'][number]['delta']),
      c.delta(signature('sig-1') as ChatChunk['choices'][number]['delta']),
      c.delta({
        thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque' }],
      } as ChatChunk['choices'][number]['delta']),
      // A second thinking block after a signed one opens a block of its own.
      c.delta(thinking('More.') as ChatChunk['choices'][number]['delta']),
      c.delta(signature('sig-2') as ChatChunk['choices'][number]['delta']),
      c.delta({ content: 'Hi' }),
      c.delta({}, 'stop'),
      c.usage(usage(25, 15)),
    ]);
    const startThinking = { type: 'thinking', thinking: '', signature: '' };
    expect(outline(events)).toEqual([
      'message_start',
      ['content_block_start', { index: 0, content_block: startThinking }],
      'ping',
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } }],
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'think.' } }],
      ['content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'sig-1' } }],
      ['content_block_stop', { index: 0 }],
      ['content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } }],
      ['content_block_stop', { index: 1 }],
      ['content_block_start', { index: 2, content_block: startThinking }],
      ['content_block_delta', { index: 2, delta: { type: 'thinking_delta', thinking: 'More.' } }],
      ['content_block_delta', { index: 2, delta: { type: 'signature_delta', signature: 'sig-2' } }],
      ['content_block_stop', { index: 2 }],
      ['content_block_start', { index: 3, content_block: { type: 'text', text: '', citations: null } }],
      ['content_block_delta', { index: 3, delta: { type: 'text_delta', text: 'Hi' } }],
      ['content_block_stop', { index: 3 }],
      ['message_delta', { delta: endTurn, usage: deltaUsage(25, 15) }],
      'message_stop',
    ]);
  });

  it('gives an Anthropic stream with thinking back as it was, through the Anthropic provider’s chunks', async () => {
    const upstream: AnthropicStreamEvent[] = [
      {
        type: 'message_start',
        message: {
          id: 'msg_01',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          stop_details: null,
          container: null,
          diagnostics: null,
          usage: {
            input_tokens: 10,
            output_tokens: 1,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            cache_creation: null,
            inference_geo: null,
            output_tokens_details: null,
            server_tool_use: null,
            service_tier: 'standard',
            speed: null,
          },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Weather: ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'use the tool.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'EmwKAhgB' } },
      { type: 'content_block_stop', index: 1 },
      {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {}, caller: { type: 'direct' } },
      },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":"Paris"}' } },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null, stop_details: null, container: null },
        usage: {
          output_tokens: 30,
          input_tokens: null,
          cache_creation_input_tokens: null,
          cache_read_input_tokens: null,
          output_tokens_details: null,
          server_tool_use: null,
        },
      },
      { type: 'message_stop' },
    ];
    const events: AnthropicSseEvent[] = [];
    const chunks = anthropicStreamToChunks(fromArray(upstream));
    for await (const event of chatChunksToAnthropicEvents(chunks, 'claude-sonnet-4-5')) events.push(event);
    const message = await sdkMessage(events);
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Weather: use the tool.', signature: 'EqQBCgIYAhIM' },
      { type: 'redacted_thinking', data: 'EmwKAhgB' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  /** A delta with fields the chat types do not know (the reasoning fields of OpenAI-shaped servers). */
  const loose = (delta: Record<string, unknown>) => c.delta(delta);
  const unsignedStart = { type: 'thinking', thinking: '', signature: '' };

  it('streams reasoning_content (DeepSeek, vLLM) as an unsigned thinking block closed before the text', async () => {
    const events = await collect([
      loose({ role: 'assistant', content: null, reasoning_content: '' }),
      loose({ content: null, reasoning_content: 'France: ' }),
      loose({ content: null, reasoning_content: 'Paris.' }),
      loose({ content: 'Paris', reasoning_content: null }),
      loose({ content: '.', reasoning_content: null }),
      c.delta({}, 'stop'),
      c.usage(usage(25, 15)),
    ]);
    expect(outline(events)).toEqual([
      'message_start',
      ['content_block_start', { index: 0, content_block: unsignedStart }],
      'ping',
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'France: ' } }],
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Paris.' } }],
      ['content_block_stop', { index: 0 }],
      ['content_block_start', { index: 1, content_block: { type: 'text', text: '', citations: null } }],
      ['content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Paris' } }],
      ['content_block_delta', { index: 1, delta: { type: 'text_delta', text: '.' } }],
      ['content_block_stop', { index: 1 }],
      ['message_delta', { delta: endTurn, usage: deltaUsage(25, 15) }],
      'message_stop',
    ]);
    expect((await sdkMessage(events)).content).toEqual([
      { type: 'thinking', thinking: 'France: Paris.', signature: '' },
      { type: 'text', text: 'Paris.', citations: null },
    ]);
  });

  it('streams reasoning (OpenRouter, Ollama) the same way, tool calls after it at the next indexes', async () => {
    const events = await collect([
      loose({ role: 'assistant', content: '', reasoning: 'Needs ' }),
      loose({ content: '', reasoning: 'the weather.' }),
      // vLLM between the two names sends both, with the same text: taken once.
      loose({ content: '', reasoning_content: ' Call it.', reasoning: ' Call it.' }),
      c.delta({
        tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      }),
      c.delta({}, 'tool_calls'),
      c.usage(usage(30, 12)),
    ]);
    expect(outline(events).slice(1, 8)).toEqual([
      ['content_block_start', { index: 0, content_block: unsignedStart }],
      'ping',
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Needs ' } }],
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'the weather.' } }],
      ['content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: ' Call it.' } }],
      ['content_block_stop', { index: 0 }],
      [
        'content_block_start',
        {
          index: 1,
          content_block: { type: 'tool_use', id: 'call_w', name: 'get_weather', input: {}, caller: { type: 'direct' } },
        },
      ],
    ]);
    const message = await sdkMessage(events);
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: 'Needs the weather. Call it.', signature: '' });
    expect(message.stop_reason).toBe('tool_use');
  });

  it('streams text then tool calls as consecutive blocks, arguments as input_json_delta', async () => {
    const events = await collect([
      c.delta({ role: 'assistant', content: 'Checking.' }),
      c.delta({
        tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      }),
      c.delta({ tool_calls: [{ index: 0, function: { arguments: '{"location": "San' } }] }),
      c.delta({ tool_calls: [{ index: 0, function: { arguments: ' Francisco, CA"}' } }] }),
      c.delta({
        tool_calls: [{ index: 1, id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{}' } }],
      }),
      c.delta({}, 'tool_calls'),
      c.usage(usage(472, 89, 100)),
    ]);
    expect(outline(events)).toEqual([
      'message_start',
      ['content_block_start', { index: 0, content_block: { type: 'text', text: '', citations: null } }],
      'ping',
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Checking.' } }],
      ['content_block_stop', { index: 0 }],
      [
        'content_block_start',
        {
          index: 1,
          content_block: { type: 'tool_use', id: 'call_w', name: 'get_weather', input: {}, caller: { type: 'direct' } },
        },
      ],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"location": "San' } }],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: ' Francisco, CA"}' } }],
      ['content_block_stop', { index: 1 }],
      [
        'content_block_start',
        {
          index: 2,
          content_block: { type: 'tool_use', id: 'call_t', name: 'get_time', input: {}, caller: { type: 'direct' } },
        },
      ],
      ['content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } }],
      ['content_block_stop', { index: 2 }],
      ['message_delta', { delta: { ...endTurn, stop_reason: 'tool_use' }, usage: deltaUsage(372, 89, 100) }],
      'message_stop',
    ]);
    const message = await sdkMessage(events);
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking.', citations: null },
      {
        type: 'tool_use',
        id: 'call_w',
        name: 'get_weather',
        input: { location: 'San Francisco, CA' },
        caller: { type: 'direct' },
      },
      { type: 'tool_use', id: 'call_t', name: 'get_time', input: {}, caller: { type: 'direct' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 372, cache_read_input_tokens: 100, output_tokens: 89 });
  });

  it('handles several whole tool calls in one delta (Ollama style) finished with "stop"', async () => {
    const events = await collect([
      c.delta({
        role: 'assistant',
        content: '',
        tool_calls: [
          { index: 0, id: 'call_a', type: 'function', function: { name: 'get_time', arguments: '{"timezone":"UTC"}' } },
          { index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"timezone":"JST"}' } },
        ],
      }),
      c.delta({}, 'stop'),
    ]);
    const message = await sdkMessage(events);
    expect(message.content.map((b) => (b.type === 'tool_use' ? b.input : b))).toEqual([
      { timezone: 'UTC' },
      { timezone: 'JST' },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    const stops = events.filter((e) => e.event === 'content_block_stop').map((e) => e.data['index']);
    expect(stops).toEqual([0, 1]);
  });

  it.each<[string, string[], Record<string, unknown>]>([
    ['an array', ['[1,', ' 2]'], {}],
    ['a string', ['"x"'], {}],
    ['a number after blanks', [' ', '42'], {}],
    ['an object in a code fence', ['```json\n{"city":', ' "Oslo"}\n```'], { city: 'Oslo' }],
    ['blanks only', ['  '], {}],
  ])('gives arguments that are %s the input the JSON translation gives', async (_name, fragments, input) => {
    const opening = { id: 'call_a', type: 'function' as const };
    const calls = fragments.map((args, i) =>
      c.delta({
        tool_calls: [
          { index: 0, ...(i === 0 ? opening : {}), function: { ...(i === 0 ? { name: 'f' } : {}), arguments: args } },
        ],
      }),
    );
    const events = await collect([...calls, c.delta({ content: 'Done.' }), c.delta({}, 'tool_calls')]);
    const message = await sdkMessage(events);
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: 'f', input });
    expect(input).toEqual(toolInput(fragments.join('')));
    // Held back, then sent whole before the block closes.
    const deltas = events.filter((e) => e.event === 'content_block_delta' && e.data['index'] === 0);
    expect(deltas.length).toBeLessThanOrEqual(1);
    const stop = events.findIndex((e) => e.event === 'content_block_stop' && e.data['index'] === 0);
    expect(events.findIndex((e) => e.data['index'] === 1)).toBeGreaterThan(stop);
  });

  /** Every content block's events come between its start and its stop, as Anthropic's do. */
  function expectBlocksInOrder(events: AnthropicSseEvent[]): void {
    const stopped = new Set<unknown>();
    let open: unknown;
    for (const { event, data } of events) {
      if (event === 'content_block_start') {
        expect(open).toBeUndefined();
        open = data['index'];
      } else if (event === 'content_block_delta') {
        expect(stopped.has(data['index'])).toBe(false);
        expect(data['index']).toBe(open);
      } else if (event === 'content_block_stop') {
        expect(data['index']).toBe(open);
        stopped.add(open);
        open = undefined;
      }
    }
  }

  const start = (index: number, id: string, name: string) =>
    c.delta({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] });
  const args = (index: number, fragment: string) =>
    c.delta({ tool_calls: [{ index, function: { arguments: fragment } }] });

  it('gives parallel tool calls streamed interleaved a block each, no delta after its stop', async () => {
    const events = await collect([
      start(0, 'call_a', 'get_weather'),
      start(1, 'call_b', 'get_time'),
      args(0, '{"city": "Os'),
      args(1, '{"tz": '),
      args(0, 'lo", "note": "a } in a \\"string\\""'),
      args(1, '"UTC"}'),
      args(0, '}'),
      c.delta({}, 'tool_calls'),
    ]);
    expectBlocksInOrder(events);
    // The first call streams as it comes; the second waits until the first's object is whole.
    expect(outline(events).slice(1, 9)).toEqual([
      [
        'content_block_start',
        {
          index: 0,
          content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {}, caller: { type: 'direct' } },
        },
      ],
      'ping',
      ['content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"city": "Os' } }],
      [
        'content_block_delta',
        { index: 0, delta: { type: 'input_json_delta', partial_json: 'lo", "note": "a } in a \\"string\\""' } },
      ],
      ['content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '}' } }],
      ['content_block_stop', { index: 0 }],
      [
        'content_block_start',
        {
          index: 1,
          content_block: { type: 'tool_use', id: 'call_b', name: 'get_time', input: {}, caller: { type: 'direct' } },
        },
      ],
      ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"tz": "UTC"}' } }],
    ]);
    const message = await sdkMessage(events);
    expect(message.content).toEqual([
      {
        type: 'tool_use',
        id: 'call_a',
        name: 'get_weather',
        input: { city: 'Oslo', note: 'a } in a "string"' },
        caller: { type: 'direct' },
      },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: { tz: 'UTC' }, caller: { type: 'direct' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('streams a waiting call on from where it stands once the call before it is whole', async () => {
    const events = await collect([
      start(0, 'call_a', 'f'),
      start(1, 'call_b', 'g'),
      start(2, 'call_c', 'h'),
      args(2, '{"c": 3}'),
      args(1, '{"b": '),
      args(0, '{"a": 1}'),
      args(1, '2}'),
      c.delta({}, 'tool_calls'),
    ]);
    expectBlocksInOrder(events);
    const inputs = (await sdkMessage(events)).content.map((b) => (b.type === 'tool_use' ? [b.name, b.input] : b));
    expect(inputs).toEqual([
      ['f', { a: 1 }],
      ['g', { b: 2 }],
      ['h', { c: 3 }],
    ]);
    // g's second fragment streamed live, after its block opened with what it held.
    const gDeltas = events.filter((e) => e.event === 'content_block_delta' && e.data['index'] === 1);
    expect(gDeltas.map((e) => (e.data['delta'] as { partial_json: string }).partial_json)).toEqual(['{"b": ', '2}']);
  });

  it('sends waiting calls before content that follows them, and at the end however far they got', async () => {
    const beforeText = await collect([
      start(0, 'call_a', 'f'),
      start(1, 'call_b', 'g'),
      args(1, '{"b": 2}'),
      args(0, '{"a": 1'),
      c.delta({ content: 'Done.' }),
      c.delta({}, 'tool_calls'),
    ]);
    expectBlocksInOrder(beforeText);
    const message = await sdkMessage(beforeText);
    expect(message.content.map((b) => b.type)).toEqual(['tool_use', 'tool_use', 'text']);
    expect(message.content[1]).toMatchObject({ name: 'g', input: { b: 2 } });

    const cutShort = await collect([start(0, 'call_a', 'f'), start(1, 'call_b', 'g'), args(1, '{"b": 2}')]);
    expectBlocksInOrder(cutShort);
    expect((await sdkMessage(cutShort)).content).toMatchObject([{ name: 'f' }, { name: 'g', input: { b: 2 } }]);
  });

  it('streams object arguments fragment by fragment, leading blanks included', async () => {
    const events = await collect([
      c.delta({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: ' ' } }] }),
      c.delta({ tool_calls: [{ index: 0, function: { arguments: '\n{"a": ' } }] }),
      c.delta({ tool_calls: [{ index: 0, function: { arguments: '[1, 2]}' } }] }),
      c.delta({}, 'tool_calls'),
    ]);
    const fragments = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data['delta'] as { partial_json: string }).partial_json);
    expect(fragments).toEqual([' \n{"a": ', '[1, 2]}']);
    expect((await sdkMessage(events)).content[0]).toMatchObject({ input: { a: [1, 2] } });
  });

  it('opens a new text block for text after a tool call', async () => {
    const events = await collect([
      c.delta({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
      c.delta({ content: 'Done.' }),
      c.delta({}, 'tool_calls'),
    ]);
    const starts = events
      .filter((e) => e.event === 'content_block_start')
      .map((e) => [e.data['index'], (e.data['content_block'] as { type: string }).type]);
    expect(starts).toEqual([
      [0, 'tool_use'],
      [1, 'text'],
    ]);
    expect(events.filter((e) => e.event === 'ping')).toHaveLength(1);
  });

  it.each([
    ['length', {}, 'max_tokens', null],
    ['content_filter', {}, 'refusal', null],
    ['stop', { stop_reason: '###' }, 'stop_sequence', '###'],
  ] as const)('maps finish %s %j to %s', async (finish, extra, stopReason, stopSequence) => {
    const finishChunk = c.delta({}, finish);
    Object.assign(finishChunk.choices[0], extra);
    const events = await collect([c.delta({ content: 'x' }), finishChunk]);
    const delta = events.find((e) => e.event === 'message_delta')?.data['delta'];
    expect(delta).toMatchObject({ stop_reason: stopReason, stop_sequence: stopSequence });
  });

  it('reports unknown usage as null input tokens and zero output', async () => {
    const events = await collect([c.delta({ content: 'x' }), c.delta({}, 'stop')]);
    expect(events.find((e) => e.event === 'message_delta')?.data['usage']).toEqual({
      input_tokens: null,
      output_tokens: 0,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      output_tokens_details: null,
      server_tool_use: null,
    });
  });

  it('still frames a message for an empty stream', async () => {
    const events = await collect([]);
    expect(outline(events)).toEqual([
      'message_start',
      ['message_delta', { delta: endTurn, usage: expect.any(Object) }],
      'message_stop',
    ]);
    expect((await sdkMessage(events)).content).toEqual([]);
  });

  it('ignores choices other than the first', async () => {
    const other: ChatChunk = {
      ...c.delta({ content: 'other' }),
      choices: [{ index: 1, delta: { content: 'other' }, finish_reason: null }],
    };
    const events = await collect([c.delta({ content: 'first' }), other, c.delta({}, 'stop')]);
    expect((await sdkMessage(events)).content).toEqual([{ type: 'text', text: 'first', citations: null }]);
  });

  it('gives the SDK the same message as the JSON translation', async () => {
    const message = await sdkMessage(await collect(textChunks));
    expect(message).toMatchObject({
      id: 'msg_AbC123stream',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 25, output_tokens: 15 },
    });
  });

  it('propagates an upstream error after the events so far', async () => {
    async function* failing(): AsyncGenerator<ChatChunk> {
      yield c.delta({ content: 'Hel' });
      throw new Error('upstream dropped the stream');
    }
    const seen: string[] = [];
    const run = async () => {
      for await (const event of chatChunksToAnthropicEvents(failing(), 'm')) seen.push(event.event);
    };
    await expect(run()).rejects.toThrow('upstream dropped the stream');
    expect(seen).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta']);
  });

  it('emits nothing when the upstream fails before its first chunk', async () => {
    const failing = (): AsyncIterable<ChatChunk> => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('connect ECONNREFUSED')) }),
    });
    const seen: string[] = [];
    const run = async () => {
      for await (const event of chatChunksToAnthropicEvents(failing(), 'm')) seen.push(event.event);
    };
    await expect(run()).rejects.toThrow('ECONNREFUSED');
    expect(seen).toEqual([]);
  });
});
