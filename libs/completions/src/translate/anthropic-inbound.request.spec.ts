import type { AnthropicMessageRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { anthropicToChat, THINKING_HISTORY } from './anthropic-inbound.request';
import {
  body,
  PNG,
  thinkingBlocks,
  thinkingTurn,
  thrown,
  toolConversation,
  weatherTool,
} from './anthropic-inbound.fixtures';

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
      'text blocks',
      [
        { type: 'text' as const, text: 'You analyse novels.' },
        { type: 'text' as const, text: 'Be brief.' },
      ],
      'You analyse novels.\n\nBe brief.',
    ],
    [
      'text parts keeping prompt-caching marks',
      [
        { type: 'text' as const, text: 'You analyse novels.' },
        {
          type: 'text' as const,
          text: '<the entire text of Pride and Prejudice>',
          cache_control: { type: 'ephemeral' as const },
        },
      ],
      [
        { type: 'text', text: 'You analyse novels.' },
        { type: 'text', text: '<the entire text of Pride and Prejudice>', cache_control: { type: 'ephemeral' } },
      ],
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
      // Anthropic's top-level automatic-caching mark, for the Anthropic provider.
      cache_control: { type: 'ephemeral' },
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
          { type: 'text', text: 'Describe these.', cache_control: { type: 'ephemeral' } },
        ],
      },
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
      'a search_result inside a tool_result',
      body({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [
                  { type: 'search_result', source: 'https://x', title: 'X', content: [{ type: 'text', text: 'x' }] },
                ],
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
    expect(err.message).toContain('only Anthropic providers take it');
  });

  it('keeps thinking and redacted_thinking blocks of assistant turns as thinking_blocks, and marks the request', () => {
    const req = anthropicToChat(
      body({
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: thinkingTurn },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01T1x1', content: 'Sunny' }] },
        ],
      }),
    );
    expect(req.messages[1]).toEqual({
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'toolu_01T1x1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
      ],
      thinking_blocks: thinkingBlocks,
    });
    expect((req as unknown as Record<symbol, unknown>)[THINKING_HISTORY]).toBe(true);
    expect(JSON.parse(JSON.stringify(req))).not.toHaveProperty(String(THINKING_HISTORY));
    expect((anthropicToChat(body()) as unknown as Record<symbol, unknown>)[THINKING_HISTORY]).toBeUndefined();
  });

  it('leaves empty text blocks of a user turn out and keeps the rest', () => {
    const req = anthropicToChat(
      body({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'Hi' },
            ],
          },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 't1', content: 'ok' },
              { type: 'text', text: '' },
            ],
          },
        ],
      }),
    );
    expect(req.messages).toEqual([
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'ok' },
    ]);
  });

  it.each([
    ['an empty string', ''],
    [
      'only empty text blocks',
      [
        { type: 'text' as const, text: '' },
        { type: 'text' as const, text: '' },
      ],
    ],
    ['no blocks', []],
  ])('refuses a user turn of %s, naming its content (Anthropic refuses it too)', (_name, content) => {
    const error = thrown(() =>
      anthropicToChat(
        body({
          messages: [
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: 'Hello' },
            { role: 'user', content },
          ],
        }),
      ),
    );
    expect(error).toMatchObject({ status: 400, param: 'messages[2].content' });
  });

  it('does not mutate the body', () => {
    const request = body({ system: 'S', messages: toolConversation, tools: [weatherTool], metadata: { user_id: 'u' } });
    const copy = structuredClone(request);
    anthropicToChat(request);
    expect(request).toEqual(copy);
  });
});
