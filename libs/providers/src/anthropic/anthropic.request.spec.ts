import { GatewayError, type ChatRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_SAMPLING_API_VERSION, DEFAULT_MAX_TOKENS, toAnthropicRequest } from './anthropic.request';

const opts = { model: 'claude-sonnet-5-5', apiVersion: '2026-10-21' };

function req(extra: Partial<ChatRequest> & Record<string, unknown> = {}): ChatRequest {
  return { model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'Hi' }], ...extra };
}

const turns: ChatRequest['messages'] = [
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello' },
];

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('toAnthropicRequest', () => {
  it('maps the basics: model, default max_tokens, stop, user', () => {
    const { params } = toAnthropicRequest(req({ stop: 'END', user: 'u-1' }), opts);
    expect(params).toEqual({
      model: 'claude-sonnet-5-5',
      max_tokens: DEFAULT_MAX_TOKENS,
      messages: [{ role: 'user', content: 'Hi' }],
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
    });
  });

  it("sends a refusal OpenAI answered (its message's refusal field, content empty or null) back as the turn's text", () => {
    for (const content of ['', [], null]) {
      const { params } = toAnthropicRequest(
        req({
          messages: [
            { role: 'user', content: 'Do the bad thing.' },
            { role: 'assistant', content, refusal: "I can't help with that." },
            { role: 'user', content: 'Why not?' },
          ],
        }),
        opts,
      );
      expect(params.messages).toEqual([
        { role: 'user', content: 'Do the bad thing.' },
        { role: 'assistant', content: [{ type: 'text', text: "I can't help with that." }] },
        { role: 'user', content: 'Why not?' },
      ]);
    }
  });

  it('sends the thinking_blocks of an assistant message back unchanged, before its text and tool calls', () => {
    const signed = { type: 'thinking', thinking: 'Weather, so the tool.', signature: 'EqQBCgIYAhIM1gbc' };
    const redacted = { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3p' };
    const { params } = toAnthropicRequest(
      req({
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
            // Another provider's reasoning has no signature: Anthropic could not verify it.
            thinking_blocks: [signed, { type: 'thinking', thinking: 'unsigned' }, redacted],
            reasoning_content: 'Weather, so the tool.',
          } as ChatRequest['messages'][number],
          { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
        ],
      }),
      opts,
    );
    expect(params.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(params.messages[1]).toEqual({
      role: 'assistant',
      content: [
        signed,
        redacted,
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
      ],
    });
  });

  it('passes the Anthropic-only fields through, service_tier in Anthropic words, betas for the header', () => {
    const anthropicOnly = {
      container: 'container_011CPR5CNjB747bTd36fQLFk',
      mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example' }],
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
      inference_geo: 'us',
      speed: 'fast',
      diagnostics: { previous_message_id: 'msg_01' },
      cache_control: { type: 'ephemeral' },
    };
    const plan = toAnthropicRequest(
      // As an Anthropic client sends it on /v1/messages: `standard_only` is no OpenAI tier.
      req({
        ...anthropicOnly,
        service_tier: 'standard_only' as 'default',
        betas: ['mcp-client-2025-04-04', 'context-1m'],
      }),
      opts,
    );
    expect(plan.params).toMatchObject({ ...anthropicOnly, service_tier: 'standard_only' });
    expect(plan.betas).toBe('mcp-client-2025-04-04,context-1m');
    expect(plan.params).not.toHaveProperty('betas');
    expect(toAnthropicRequest(req(), opts)).toEqual({ params: expect.any(Object), jsonTool: undefined });
    // OpenAI's tiers: `default` is standard capacity; the others have no Anthropic equivalent.
    expect(toAnthropicRequest(req({ service_tier: 'default' }), opts).params.service_tier).toBe('standard_only');
    expect(toAnthropicRequest(req({ service_tier: 'auto' }), opts).params.service_tier).toBe('auto');
    expect(toAnthropicRequest(req({ service_tier: 'flex' }), opts).params).not.toHaveProperty('service_tier');
  });

  it('drops empty text parts of a user message and keeps the rest', () => {
    const content = [
      { type: 'text' as const, text: '' },
      { type: 'text' as const, text: 'Hi' },
    ];
    const { params } = toAnthropicRequest(req({ messages: [{ role: 'user', content }] }), opts);
    expect(params.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  it.each([
    [{ max_tokens: 100 }, 100],
    [{ max_completion_tokens: 200, max_tokens: 100 }, 200],
    [{ max_tokens: null }, DEFAULT_MAX_TOKENS],
  ])('max_tokens from %j', (extra, expected) => {
    expect(toAnthropicRequest(req(extra), opts).params.max_tokens).toBe(expected);
  });

  it('joins every system and developer message into system', () => {
    const { params } = toAnthropicRequest(
      req({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
        ],
      }),
      opts,
    );
    expect(params.system).toBe('Be brief.\n\nUse French.');
    expect(params.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('keeps prompt-caching marks on system and user text parts', () => {
    const cached = { type: 'text', text: 'Long context', cache_control: { type: 'ephemeral' } };
    const { params } = toAnthropicRequest(
      req({
        messages: [
          { role: 'system', content: [cached, { type: 'text', text: 'Be brief.' }] },
          {
            role: 'user',
            content: [{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral', ttl: '1h' } }],
          },
        ],
      } as Partial<ChatRequest>),
      opts,
    );
    expect(params.system).toEqual([cached, { type: 'text', text: 'Be brief.' }]);
    expect(params.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
    ]);
  });

  it('maps multi-part user content with data: and http image URLs', () => {
    const { params } = toAnthropicRequest(
      req({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      }),
      opts,
    );
    expect(params.messages[0].content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('maps assistant tool calls to tool_use and consecutive tool messages to one tool_result turn', () => {
    const { params } = toAnthropicRequest(
      req({
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '21C' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '25C' }] },
          { role: 'user', content: 'Thanks' },
        ],
      }),
      opts,
    );
    expect(params.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '21C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '25C' },
        ],
      },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it('maps tools to input_schema', () => {
    const { params } = toAnthropicRequest(req({ tools: [weatherTool] }), opts);
    expect(params.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ]);
    expect(params.tool_choice).toBeUndefined();
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather' },
    ],
  ] as const)('tool_choice %j -> %j', (choice, expected) => {
    expect(toAnthropicRequest(req({ tools: [weatherTool], tool_choice: choice }), opts).params.tool_choice).toEqual(
      expected,
    );
  });

  it('parallel_tool_calls false disables parallel tool use', () => {
    const { params } = toAnthropicRequest(req({ tools: [weatherTool], parallel_tool_calls: false }), opts);
    expect(params.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('implements json_schema with one forced tool named after the schema', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const plan = toAnthropicRequest(
      req({ response_format: { type: 'json_schema', json_schema: { name: 'weather_report', schema, strict: true } } }),
      opts,
    );
    expect(plan.jsonTool).toBe('weather_report');
    // `strict: true` goes on as the tool's: Anthropic then keeps the input to the schema, as OpenAI does the answer.
    expect(plan.params.tools).toEqual([
      {
        name: 'weather_report',
        description: expect.stringContaining('weather_report'),
        input_schema: schema,
        strict: true,
      },
    ]);
    expect(plan.params.tool_choice).toEqual({ type: 'tool', name: 'weather_report' });
    const loose = toAnthropicRequest(
      req({ response_format: { type: 'json_schema', json_schema: { name: 'weather_report', schema } } }),
      opts,
    );
    expect(loose.params.tools?.[0]).not.toHaveProperty('strict');
  });

  it('with callable tools, json_schema lets the model call a tool or answer through the schema tool, one a turn', () => {
    const plan = toAnthropicRequest(
      req({
        tools: [weatherTool],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      }),
      opts,
    );
    expect(plan.params.tools?.map((tool) => ('name' in tool ? tool.name : undefined))).toEqual([
      'get_weather',
      'answer',
    ]);
    // Both in one turn, a stream would send the tool call before the answer that makes it moot.
    expect(plan.params.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
  });

  it.each(['required', { type: 'function', function: { name: 'get_weather' } }] as const)(
    'with tool_choice %j, json_schema offers no format tool: the turn must call one of the tools',
    (choice) => {
      const plan = toAnthropicRequest(
        req({
          tools: [weatherTool],
          tool_choice: choice,
          response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
        }),
        opts,
      );
      expect(plan.jsonTool).toBeUndefined();
      expect(plan.params.tools?.map((tool) => ('name' in tool ? tool.name : undefined))).toEqual(['get_weather']);
      expect(plan.params.tool_choice).toMatchObject({ type: choice === 'required' ? 'any' : 'tool' });
    },
  );

  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
  ] as const)('allowed_tools in %s mode offers only the tools it lists, with tool_choice %j', (mode, expected) => {
    const timeTool = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object' } } };
    const { params } = toAnthropicRequest(
      req({
        tools: [weatherTool, timeTool],
        tool_choice: {
          type: 'allowed_tools',
          allowed_tools: { mode, tools: [{ type: 'function', function: { name: 'get_time' } }] },
        },
      }),
      opts,
    );
    expect(params.tools?.map((tool) => ('name' in tool ? tool.name : undefined))).toEqual(['get_time']);
    expect(params.tool_choice).toEqual(expected);
  });

  it('json_object uses a permissive object tool', () => {
    const plan = toAnthropicRequest(req({ response_format: { type: 'json_object' } }), opts);
    expect(plan.jsonTool).toBe('json_object');
    expect(plan.params.tool_choice).toEqual({ type: 'tool', name: 'json_object' });
  });

  it('passes temperature, top_p and top_k only on the API version that accepts them', () => {
    const { params } = toAnthropicRequest(req({ temperature: 0.2, top_p: 0.9, top_k: 40 }), {
      ...opts,
      apiVersion: ANTHROPIC_SAMPLING_API_VERSION,
    });
    expect(params).toMatchObject({ temperature: 0.2, top_p: 0.9, top_k: 40 });
  });

  it('maps reasoning_effort to output_config.effort', () => {
    expect(toAnthropicRequest(req({ reasoning_effort: 'high' }), opts).params.output_config).toEqual({
      effort: 'high',
    });
  });

  it('ignores defaults that mean "unused"', () => {
    const { params } = toAnthropicRequest(
      req({ n: 1, logprobs: false, frequency_penalty: 0, presence_penalty: 0, temperature: null, seed: 7 }),
      opts,
    );
    expect(params).not.toHaveProperty('temperature');
  });

  it.each([
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['functions', { functions: [{ name: 'f' }] }],
    ['temperature', { temperature: 0.7 }],
    ['top_p', { top_p: 0.5 }],
    ['top_k', { top_k: 5 }],
    ['reasoning_effort', { reasoning_effort: 'minimal' }],
    ['tools[0]', { tools: [{ type: 'custom', custom: { name: 'grammar' } }] }],
    [
      'response_format.json_schema.schema',
      { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array' } } } },
    ],
    [
      'messages[0].content[0]',
      {
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] }],
      },
    ],
    [
      'messages[0].content[0].image_url.url',
      {
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA==' } }] },
        ],
      },
    ],
    [
      'messages[1].tool_calls[0].function.arguments',
      {
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      },
    ],
    // Anthropic refuses a user turn with no content (its own 400): the gateway's names the message.
    ['messages[2].content', { messages: [...turns, { role: 'user', content: '' }] }],
    ['messages[2].content', { messages: [...turns, { role: 'user', content: [{ type: 'text', text: '' }] }] }],
    ['messages[2].content', { messages: [...turns, { role: 'user', content: [] }] }],
    [
      'messages[1].thinking_blocks[0]',
      { messages: [turns[0], { role: 'assistant', content: 'x', thinking_blocks: [{ type: 'reasoning' }] }] },
    ],
    [
      'messages[1].thinking_blocks[0].data',
      { messages: [turns[0], { role: 'assistant', content: 'x', thinking_blocks: [{ type: 'redacted_thinking' }] }] },
    ],
    ['betas', { betas: [42] }],
    ['betas', { betas: ['a,b'] }],
    [
      'messages[1].thinking_blocks',
      { messages: [turns[0], { role: 'assistant', content: 'x', thinking_blocks: 'x' }] },
    ],
  ])('rejects what cannot be expressed: %s', (param, extra) => {
    let error: unknown;
    try {
      toAnthropicRequest(req(extra as Partial<ChatRequest>), opts);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'invalid_request_error', status: 400, param });
  });
});
