import type { AnthropicMessageRequest, ChatRequest } from '@app/contracts';
import { toAnthropicRequest } from '@app/providers';
import { describe, expect, it } from 'vitest';
import { anthropicToChat } from './anthropic-inbound.request';
import { body, PNG, thinkingTurn, thrown, toolConversation, weatherTool } from './anthropic-inbound.fixtures';

describe('anthropicToChat: tools and tool traffic', () => {
  it('maps a tool conversation: tool_use -> tool_calls, tool_result -> tool message before the rest of the turn', () => {
    const out = anthropicToChat(body({ messages: toolConversation, tools: [weatherTool] }));
    expect(out.messages).toEqual([
      { role: 'user', content: 'What is the weather like in San Francisco?' },
      {
        role: 'assistant',
        content: "I'll check the current weather in San Francisco for you.",
        tool_calls: [
          {
            id: 'toolu_01A09q90qw90lq917835lq9',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
      { role: 'user', content: 'Also, should I bring an umbrella?' },
    ]);
    expect(out.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: weatherTool.description, parameters: weatherTool.input_schema },
      },
    ]);
  });

  it('maps parallel tool results in order, error results, block content and tool images', () => {
    const out = anthropicToChat(
      body({
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_a', name: 'read_file', input: { path: 'a.txt' } },
              { type: 'tool_use', id: 'toolu_b', name: 'screenshot', input: {} },
              { type: 'tool_use', id: 'toolu_c', name: 'read_file', input: { path: 'missing.txt' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_a',
                content: [
                  { type: 'text', text: 'line 1' },
                  { type: 'text', text: 'line 2' },
                ],
              },
              {
                type: 'tool_result',
                tool_use_id: 'toolu_b',
                content: [
                  { type: 'text', text: 'Captured.' },
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
                ],
              },
              { type: 'tool_result', tool_use_id: 'toolu_c', content: 'ENOENT: no such file', is_error: true },
            ],
          },
        ],
      }),
    );
    expect(out.messages.slice(1)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_a', content: 'line 1\nline 2' },
      { role: 'tool', tool_call_id: 'toolu_b', content: 'Captured.' },
      { role: 'tool', tool_call_id: 'toolu_c', content: 'Error: ENOENT: no such file' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Images returned by tool call toolu_b:' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
    ]);
    expect(out.messages[0]).toMatchObject({ role: 'assistant', content: null });
  });

  it('maps documents a tool returned as documents at the top of a turn are: text in the tool message, a PDF after it', () => {
    const out = anthropicToChat(
      body({
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_d', name: 'fetch', input: {} }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_d',
                content: [
                  { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'sunny' } },
                  { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(out.messages.slice(1)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_d', content: 'sunny' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Files returned by tool call toolu_d:' },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
        ],
      },
    ]);
  });

  it.each([
    [{ type: 'auto' as const }, { tool_choice: 'auto' }],
    [{ type: 'any' as const }, { tool_choice: 'required' }],
    [{ type: 'none' as const }, { tool_choice: 'none' }],
    [
      { type: 'tool' as const, name: 'get_weather' },
      { tool_choice: { type: 'function', function: { name: 'get_weather' } } },
    ],
    [
      { type: 'any' as const, disable_parallel_tool_use: true },
      { tool_choice: 'required', parallel_tool_calls: false },
    ],
  ])('maps tool_choice %j', (toolChoice, expected) => {
    const out = anthropicToChat(body({ tools: [weatherTool], tool_choice: toolChoice }));
    expect({
      tool_choice: out.tool_choice,
      ...(out.parallel_tool_calls === undefined ? {} : { parallel_tool_calls: out.parallel_tool_calls }),
    }).toEqual(expected);
  });

  it.each([
    [
      'a tool input_schema',
      body({
        tools: [weatherTool, { name: 'f', input_schema: { type: 'object', properties: { a: { type: 'nonsense' } } } }],
      }),
      'tools[1].input_schema',
    ],
    [
      'an output_config schema',
      body({ output_config: { format: { type: 'json_schema', schema: { type: 'object', required: 'a' } } } }),
      'output_config.format.schema',
    ],
  ])('refuses %s that is not a JSON Schema with a 400 naming it', (_name, request, param) => {
    const err = thrown(() => anthropicToChat(request));
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message).toContain(`${param} is not a valid JSON Schema`);
  });

  it('cleans null properties/required and keeps strict', () => {
    const out = anthropicToChat(
      body({
        tools: [{ name: 'ping', input_schema: { type: 'object', properties: null, required: null }, strict: true }],
      }),
    );
    expect(out.tools).toEqual([
      { type: 'function', function: { name: 'ping', parameters: { type: 'object' }, strict: true } },
    ]);
  });

  it('keeps earlier thinking blocks as thinking_blocks and maps an assistant prefill', () => {
    const out = anthropicToChat(
      body({
        messages: [
          { role: 'user', content: 'Think, then answer.' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Let me reason...', signature: 'EqQBCgIYAhIM' },
              { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
              { type: 'text', text: '42' },
            ],
          },
          { role: 'user', content: 'Now in JSON:' },
          { role: 'assistant', content: '{"answer":' },
        ],
      }),
    );
    expect(out.messages).toEqual([
      { role: 'user', content: 'Think, then answer.' },
      {
        role: 'assistant',
        content: '42',
        thinking_blocks: [
          { type: 'thinking', thinking: 'Let me reason...', signature: 'EqQBCgIYAhIM' },
          { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
        ],
      },
      { role: 'user', content: 'Now in JSON:' },
      { role: 'assistant', content: '{"answer":' },
    ]);
  });
});

describe('anthropicToChat then the Anthropic provider mapping', () => {
  it('gives back the original Messages request', () => {
    const original = body({
      system: 'You are a weather assistant.',
      messages: toolConversation,
      tools: [weatherTool],
      tool_choice: { type: 'auto' },
      stop_sequences: ['END'],
      metadata: { user_id: 'user-7f3a' },
    });
    const chat: ChatRequest = anthropicToChat(original);
    const { params } = toAnthropicRequest(chat, { model: 'claude-sonnet-4-5', apiVersion: '2026-10-21' });
    expect(params).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: 'You are a weather assistant.',
      messages: [
        toolConversation[0],
        toolConversation[1],
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' }],
        },
        { role: 'user', content: 'Also, should I bring an umbrella?' },
      ],
      tools: [{ ...weatherTool, input_schema: { ...weatherTool.input_schema } }],
      tool_choice: { type: 'auto' },
      stop_sequences: ['END'],
      metadata: { user_id: 'user-7f3a' },
    });
  });

  it('gives back the thinking blocks of a tool loop, before the tool call, unchanged', () => {
    const messages: AnthropicMessageRequest['messages'] = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: thinkingTurn },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01T1x1', content: 'Sunny' }] },
    ];
    const original = body({ thinking: { type: 'enabled', budget_tokens: 1024 }, messages, tools: [weatherTool] });
    const { params } = toAnthropicRequest(anthropicToChat(original), {
      model: 'claude-sonnet-4-5',
      apiVersion: '2026-10-21',
    });
    expect(params.messages).toEqual(messages);
    expect(params.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });
});
