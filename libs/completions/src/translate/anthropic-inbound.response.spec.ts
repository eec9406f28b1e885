import type { ChatResponse } from '@app/contracts';
import { fromAnthropicMessage } from '@app/providers';
import { describe, expect, it } from 'vitest';
import {
  anthropicMessageId,
  anthropicStopReason,
  anthropicUsage,
  chatToAnthropic,
  toolInput,
} from './anthropic-inbound.response';
import { chatResponse, usage } from './translate.fixtures';

const toolCall = (id: string, name: string, args: string) => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
});

describe('chatToAnthropic', () => {
  it('maps a text answer', () => {
    const res = chatResponse({ content: 'Hello! How can I help you today?' }, 'stop', { usage: usage(25, 12) });
    expect(chatToAnthropic(res, 'claude-sonnet-4-5')).toEqual({
      id: 'msg_B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello! How can I help you today?', citations: null }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: {
        input_tokens: 25,
        output_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: null,
        inference_geo: null,
        output_tokens_details: null,
        server_tool_use: null,
        service_tier: 'standard',
        speed: null,
      },
    });
  });

  it('maps text and tool calls to text and tool_use blocks', () => {
    const res = chatResponse(
      {
        content: 'Let me check.',
        tool_calls: [
          toolCall('call_DdmO9pD3xa9XTPNJ32zg2hcA', 'get_weather', '{"location":"Paris, France","unit":"celsius"}'),
          toolCall('call_2', 'get_time', ''),
        ],
      },
      'tool_calls',
    );
    const msg = chatToAnthropic(res, 'claude-sonnet-4-5');
    expect(msg.content).toEqual([
      { type: 'text', text: 'Let me check.', citations: null },
      {
        type: 'tool_use',
        id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
        name: 'get_weather',
        input: { location: 'Paris, France', unit: 'celsius' },
        caller: { type: 'direct' },
      },
      { type: 'tool_use', id: 'call_2', name: 'get_time', input: {}, caller: { type: 'direct' } },
    ]);
    expect(msg.stop_reason).toBe('tool_use');
  });

  it.each([
    ['stop', {}, 'end_turn', null],
    ['stop', { stop_reason: '</answer>' }, 'stop_sequence', '</answer>'],
    ['stop', { stop_sequence: 'END' }, 'stop_sequence', 'END'],
    ['stop', { stop_reason: 128009 }, 'end_turn', null],
    ['length', {}, 'max_tokens', null],
    ['tool_calls', {}, 'tool_use', null],
    ['function_call', {}, 'tool_use', null],
    ['content_filter', {}, 'refusal', null],
  ] as const)('maps finish_reason %s %j to %s', (finish, extra, stopReason, stopSequence) => {
    const res = chatResponse({ content: 'x' }, finish);
    Object.assign(res.choices[0], extra);
    const msg = chatToAnthropic(res, 'm');
    expect(msg.stop_reason).toBe(stopReason);
    expect(msg.stop_sequence).toBe(stopSequence);
  });

  it('gives a tool call sent without an id one (a tool_result answers by it), and takes object arguments as the input', () => {
    const noId = { type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"P"}' } };
    const emptyId = { ...toolCall('', 'get_time', '{}') };
    const objectArgs = { ...toolCall('call_3', 'get_date', ''), function: { name: 'get_date', arguments: { day: 1 } } };
    const res = chatResponse({ tool_calls: [noId, emptyId, objectArgs] as never }, 'tool_calls');
    const blocks = chatToAnthropic(res, 'm').content as Array<{ id: string; input: unknown }>;
    expect(blocks.map((b) => b.id)).toEqual([
      expect.stringMatching(/^toolu_\w{10,}$/),
      expect.stringMatching(/^toolu_\w{10,}$/),
      'call_3',
    ]);
    expect(blocks.map((b) => b.input)).toEqual([{ city: 'P' }, {}, { day: 1 }]);
  });

  it('reports tool calls finished with "stop" (Ollama, Gemini) as tool_use', () => {
    const res = chatResponse({ tool_calls: [toolCall('call_1', 'get_time', '{}')] }, 'stop');
    expect(chatToAnthropic(res, 'm').stop_reason).toBe('tool_use');
  });

  it('maps a refusal to refusal text with stop details', () => {
    const res = chatResponse({ content: null, refusal: "I can't help with that." }, 'content_filter');
    const msg = chatToAnthropic(res, 'm');
    expect(msg.content).toEqual([{ type: 'text', text: "I can't help with that.", citations: null }]);
    expect(msg.stop_reason).toBe('refusal');
    expect(msg.stop_details).toEqual({ type: 'refusal', category: null, explanation: null });
  });

  it('maps an empty answer and a response without choices or usage', () => {
    const empty = chatToAnthropic(chatResponse({ content: '' }), 'm');
    expect(empty.content).toEqual([]);
    const bare: ChatResponse = { id: '', object: 'chat.completion', created: 0, model: 'x', choices: [] };
    const msg = chatToAnthropic(bare, 'm');
    expect(msg).toMatchObject({ content: [], stop_reason: 'end_turn', usage: { input_tokens: 0, output_tokens: 0 } });
    expect(msg.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
  });

  it('round-trips an Anthropic answer mapped by the provider', () => {
    const original = {
      id: 'msg_01Aq9w938a90dw8q',
      type: 'message' as const,
      role: 'assistant' as const,
      model: 'claude-sonnet-4-5',
      container: null,
      diagnostics: null,
      content: [
        { type: 'text' as const, text: 'Checking.', citations: null },
        {
          type: 'tool_use' as const,
          id: 'toolu_01',
          name: 'get_weather',
          input: { location: 'SF' },
          caller: { type: 'direct' as const },
        },
      ],
      stop_reason: 'tool_use' as const,
      stop_details: null,
      stop_sequence: null,
      usage: anthropicUsage(usage(500, 40, 300)),
    };
    expect(chatToAnthropic(fromAnthropicMessage(original), 'claude-sonnet-4-5')).toEqual(original);
  });

  it('gives thinking blocks back first, exactly, through the Anthropic provider and back', () => {
    const original = {
      id: 'msg_01Thinking',
      type: 'message' as const,
      role: 'assistant' as const,
      model: 'claude-sonnet-4-5',
      container: null,
      diagnostics: null,
      content: [
        { type: 'thinking' as const, thinking: 'The user wants the weather.', signature: 'EqQBCgIYAhIM1gbc' },
        { type: 'redacted_thinking' as const, data: 'EmwKAhgBEgy3va3p' },
        { type: 'text' as const, text: 'Checking.', citations: null },
        {
          type: 'tool_use' as const,
          id: 'toolu_01',
          name: 'get_weather',
          input: { location: 'SF' },
          caller: { type: 'direct' as const },
        },
      ],
      stop_reason: 'tool_use' as const,
      stop_details: null,
      stop_sequence: null,
      usage: anthropicUsage(usage(500, 40, 300)),
    };
    expect(chatToAnthropic(fromAnthropicMessage(original), 'claude-sonnet-4-5')).toEqual(original);
  });

  it.each([
    ['reasoning_content (DeepSeek, vLLM)', { reasoning_content: 'France, capital: Paris.' }],
    ['reasoning (OpenRouter, Ollama)', { reasoning: 'France, capital: Paris.' }],
    ['both, the same text (vLLM in between)', { reasoning_content: 'France, capital: Paris.', reasoning: 'x' }],
    ['an empty reasoning_content beside reasoning', { reasoning_content: '', reasoning: 'France, capital: Paris.' }],
  ])('makes reasoning text in %s an unsigned thinking block before the text', (_name, fields) => {
    const res = chatResponse({ content: 'Paris.', ...fields });
    expect(chatToAnthropic(res, 'claude-sonnet-4-5').content).toEqual([
      { type: 'thinking', thinking: 'France, capital: Paris.', signature: '' },
      { type: 'text', text: 'Paris.', citations: null },
    ]);
  });

  it('puts the unsigned thinking block before tool_use blocks, and makes none of empty or null reasoning', () => {
    const call = toolCall('call_1', 'get_weather', '{"location":"Paris"}');
    const res = chatResponse(
      { content: null, reasoning_content: 'Needs the weather.', tool_calls: [call] } as Partial<
        ChatResponse['choices'][number]['message']
      >,
      'tool_calls',
    );
    const message = chatToAnthropic(res, 'claude-sonnet-4-5');
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
    expect(message.stop_reason).toBe('tool_use');
    for (const fields of [{ reasoning_content: '' }, { reasoning_content: null, reasoning: null }, { reasoning: '' }]) {
      const plain = chatResponse({ content: 'Paris.', ...fields });
      expect(chatToAnthropic(plain, 'm').content).toEqual([{ type: 'text', text: 'Paris.', citations: null }]);
    }
  });

  it('takes thinking blocks over the reasoning text that repeats them, and leaves out malformed entries', () => {
    const signed = chatResponse({
      content: 'Paris.',
      reasoning_content: 'Hm.',
      thinking_blocks: [{ type: 'thinking', thinking: 'Hm.', signature: 'sig' }],
    } as Partial<ChatResponse['choices'][number]['message']>);
    expect(chatToAnthropic(signed, 'claude-sonnet-4-5').content).toEqual([
      { type: 'thinking', thinking: 'Hm.', signature: 'sig' },
      { type: 'text', text: 'Paris.', citations: null },
    ]);
    const odd = chatResponse({
      content: 'Paris.',
      thinking_blocks: [{ type: 'reasoning', text: 'x' }, null, { type: 'thinking', thinking: 'Hm.' }],
    } as unknown as ChatResponse['choices'][number]['message']);
    expect(chatToAnthropic(odd, 'claude-sonnet-4-5').content).toEqual([
      { type: 'thinking', thinking: 'Hm.', signature: '' },
      { type: 'text', text: 'Paris.', citations: null },
    ]);
  });
});

describe('anthropicUsage', () => {
  it('separates cache reads from input tokens and keeps reasoning tokens', () => {
    const u = { ...usage(2000, 300, 1800), completion_tokens_details: { reasoning_tokens: 120 } };
    expect(anthropicUsage(u)).toMatchObject({
      input_tokens: 200,
      cache_read_input_tokens: 1800,
      cache_creation_input_tokens: 0,
      output_tokens: 300,
      output_tokens_details: { thinking_tokens: 120 },
    });
  });

  it('never reports negative input tokens', () => {
    expect(anthropicUsage(usage(10, 1, 50)).input_tokens).toBe(0);
  });
});

describe('anthropicMessageId', () => {
  it.each([
    ['chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', 'msg_B9MHDbslfkBeAs8l4bebGdFOJ6PeG'],
    ['msg_01XFDUDYJgAACzvnptvVoYEL', 'msg_01XFDUDYJgAACzvnptvVoYEL'],
    ['gen-1741570283-a1b2c3', 'msg_gen-1741570283-a1b2c3'],
    ['chatcmpl-9f2e:1', 'msg_9f2e1'],
  ])('%s -> %s', (id, expected) => {
    expect(anthropicMessageId(id)).toBe(expected);
  });
});

describe('toolInput', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['', {}],
    ['  ', {}],
    ['```json\n{"a":1}\n```', { a: 1 }],
    ['{"a":1} trailing words', { a: 1 }],
    ['[1,2]', {}],
    ['"text"', {}],
    ['{not json', {}],
    [{ a: 1 }, { a: 1 }],
    [[1], {}],
    [null, {}],
  ])('%j -> %j', (args, input) => {
    expect(toolInput(args)).toEqual(input);
  });
});

describe('anthropicStopReason', () => {
  it('keeps max_tokens when a truncated reply has tool calls', () => {
    expect(anthropicStopReason('length', true, null)).toBe('max_tokens');
  });
});
