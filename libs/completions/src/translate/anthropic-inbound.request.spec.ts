import { GatewayError, type AnthropicMessageRequest, type ChatRequest } from '@app/contracts';
import { toAnthropicRequest } from '@app/providers';
import { describe, expect, it } from 'vitest';
import { anthropicToChat } from './anthropic-inbound.request';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function body(extra: Partial<AnthropicMessageRequest> & Record<string, unknown> = {}): AnthropicMessageRequest {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'Hello, Claude' }],
    ...extra,
  };
}

const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: {
    type: 'object' as const,
    properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } },
    required: ['location'],
  },
};

/** A tool round trip as Anthropic's docs show it: question, tool_use, tool_result. */
const toolConversation: AnthropicMessageRequest['messages'] = [
  { role: 'user', content: 'What is the weather like in San Francisco?' },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: "I'll check the current weather in San Francisco for you." },
      {
        type: 'tool_use',
        id: 'toolu_01A09q90qw90lq917835lq9',
        name: 'get_weather',
        input: { location: 'San Francisco, CA' },
      },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
      { type: 'text', text: 'Also, should I bring an umbrella?' },
    ],
  },
];

function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('anthropicToChat', () => {
  it('maps the basics', () => {
    expect(anthropicToChat(body())).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hello, Claude' }],
    });
  });

  it.each([
    ['a string', 'You are a pirate.', 'You are a pirate.'],
    [
      'text blocks with cache_control (dropped)',
      [
        { type: 'text' as const, text: 'You analyse novels.' },
        {
          type: 'text' as const,
          text: '<the entire text of Pride and Prejudice>',
          cache_control: { type: 'ephemeral' as const },
        },
      ],
      'You analyse novels.\n\n<the entire text of Pride and Prejudice>',
    ],
  ])('makes a system message of system as %s', (_name, system, expected) => {
    expect(anthropicToChat(body({ system })).messages[0]).toEqual({ role: 'system', content: expected });
  });

  it('maps sampling, stop sequences, user, stream; passes top_k, thinking and unknown fields through', () => {
    const out = anthropicToChat(
      body({
        temperature: 0.3,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ['\n\nHuman:', 'END'],
        metadata: { user_id: 'user-7f3a' },
        stream: true,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        service_tier: 'auto',
        vendor_option: { keep: true },
        cache_control: { type: 'ephemeral' },
      }),
    );
    expect(out).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hello, Claude' }],
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      stop: ['\n\nHuman:', 'END'],
      user: 'user-7f3a',
      stream: true,
      stream_options: { include_usage: true },
      thinking: { type: 'enabled', budget_tokens: 2048 },
      service_tier: 'auto',
      vendor_option: { keep: true },
    });
  });

  it('maps output_config to reasoning_effort and a json_schema response_format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const out = anthropicToChat(body({ output_config: { effort: 'high', format: { type: 'json_schema', schema } } }));
    expect(out.reasoning_effort).toBe('high');
    expect(out.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema } });
    expect(out).not.toHaveProperty('output_config');
  });

  it('maps images (base64 and url), PDFs and text documents in user content', () => {
    const out = anthropicToChat(
      body({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
              { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/ant.jpg' } },
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' },
                title: 'report.pdf',
              },
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Grass is green.' } },
              { type: 'text', text: 'Describe these.', cache_control: { type: 'ephemeral' } },
            ],
          },
        ],
      }),
    );
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/ant.jpg' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0x', filename: 'report.pdf' } },
          { type: 'text', text: 'Grass is green.' },
          { type: 'text', text: 'Describe these.' },
        ],
      },
    ]);
  });

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

  it('drops earlier thinking blocks and maps an assistant prefill', () => {
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
      { role: 'assistant', content: '42' },
      { role: 'user', content: 'Now in JSON:' },
      { role: 'assistant', content: '{"answer":' },
    ]);
  });

  it.each([
    [
      'a server tool',
      body({
        tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] as AnthropicMessageRequest['tools'],
      }),
      'tools[0].type',
    ],
    [
      'a Files API image',
      body({
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_011' } }] }],
      }),
      'messages[0].content[0].source.type',
    ],
    [
      'a PDF by URL',
      body({
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] }],
      }),
      'messages[0].content[0].source.type',
    ],
    [
      'a search_result block',
      body({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'search_result', source: 'https://x', title: 'X', content: [{ type: 'text', text: 'x' }] },
            ],
          },
        ],
      }),
      'messages[0].content[0].type',
    ],
    [
      'tool_use in a user message',
      body({ messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'n', input: {} }] }] }),
      'messages[0].content[0].type',
    ],
    [
      'a document inside a tool_result',
      body({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }],
              },
            ],
          },
        ],
      }),
      'messages[0].content[0].content[0].type',
    ],
  ])('refuses %s with a 400 naming the block', (_name, request, param) => {
    const err = thrown(() => anthropicToChat(request));
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message).toContain('is not supported by this gateway');
  });

  it('does not mutate the body', () => {
    const request = body({ system: 'S', messages: toolConversation, tools: [weatherTool], metadata: { user_id: 'u' } });
    const copy = structuredClone(request);
    anthropicToChat(request);
    expect(request).toEqual(copy);
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
});
