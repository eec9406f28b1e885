import { describe, expect, it } from 'vitest';
import { anthropicCountTokensSchema, anthropicMessagesSchema } from './anthropic-inbound.schema';

/** The param the gateway's validation pipe reports: the first issue's path, OpenAI-style. */
function firstIssue(body: unknown): { param: string; message: string } | undefined {
  const result = anthropicMessagesSchema.safeParse(body);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const param = issue.path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
  return { param, message: issue.message };
}

const valid = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hello' }],
};

describe('anthropicMessagesSchema', () => {
  it.each([
    ['n', 3],
    ['logprobs', true],
    ['top_logprobs', 5],
    ['max_completion_tokens', 100_000_000],
    ['response_format', { type: 'json_object' }],
    ['seed', 1],
  ])('refuses the Chat Completions argument %s, which the Messages API has no field for', (name, value) => {
    expect(firstIssue({ ...valid, [name]: value })).toEqual({
      param: name,
      message: expect.stringContaining(`${name} is a Chat Completions parameter`),
    });
    expect(anthropicCountTokensSchema.safeParse({ ...valid, [name]: value }).success).toBe(false);
  });

  it('keeps passing on the fields both APIs define, and fields of its own it does not name', () => {
    const body = { ...valid, temperature: 0.5, top_p: 0.9, service_tier: 'auto', inference_geo: 'us', top_k: 3 };
    expect(anthropicMessagesSchema.parse(body)).toEqual(body);
  });

  it.each([
    ['the minimal body', valid],
    [
      'a full Claude Code-like body',
      {
        ...valid,
        system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'List files' }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt\nb.txt', is_error: false }],
          },
        ],
        tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: {} } }],
        tool_choice: { type: 'auto' },
        temperature: 1,
        top_k: 5,
        stop_sequences: ['END'],
        stream: true,
        metadata: { user_id: 'user_abc' },
        thinking: { type: 'enabled', budget_tokens: 1024 },
        unknown_field: 'passes',
      },
    ],
    [
      'a server tool (refused later, by the translation)',
      { ...valid, tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
    ],
    [
      'an unknown block type (refused later, naming it)',
      { ...valid, messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
    ],
  ])('accepts %s', (_name, body) => {
    expect(firstIssue(body)).toBeUndefined();
  });

  it('takes server tools and toolsets without a name (Anthropic decides), but no custom tool without one', () => {
    const toolsets = [
      { type: 'computer_toolset_20260801' },
      { type: 'mcp_toolset', mcp_server_name: 'docs' },
      { type: 'bash_20250124', name: 'bash' },
    ];
    expect(firstIssue({ ...valid, tools: toolsets })).toBeUndefined();
    const schema = { type: 'object' };
    expect(firstIssue({ ...valid, tools: [{ input_schema: schema }] })).toMatchObject({ param: 'tools[0].name' });
    expect(firstIssue({ ...valid, tools: [{ type: 'custom', name: 'a b', input_schema: schema }] })).toMatchObject({
      param: 'tools[0].name',
      message: 'must be 1-64 letters, digits, underscores or dashes',
    });
    expect(firstIssue({ ...valid, tools: [{ name: 'ok', input_schema: schema }] })).toBeUndefined();
  });

  it('keeps unknown fields', () => {
    const parsed = anthropicMessagesSchema.parse({ ...valid, unknown_field: { a: 1 } });
    expect(parsed['unknown_field']).toEqual({ a: 1 });
  });

  it.each([
    ['a missing model', { max_tokens: 10, messages: valid.messages }, 'model'],
    ['an empty model', { ...valid, model: '' }, 'model'],
    ['a missing max_tokens', { model: 'm', messages: valid.messages }, 'max_tokens'],
    ['max_tokens 0', { ...valid, max_tokens: 0 }, 'max_tokens'],
    ['a fractional max_tokens', { ...valid, max_tokens: 10.5 }, 'max_tokens'],
    ['max_tokens above a million (as on chat completions)', { ...valid, max_tokens: 1_000_001 }, 'max_tokens'],
    ['no messages', { ...valid, messages: [] }, 'messages'],
    ['messages not an array', { ...valid, messages: 'hi' }, 'messages'],
    ['an unknown role', { ...valid, messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ['content of the wrong type', { ...valid, messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [
      'a block without type',
      { ...valid, messages: [{ role: 'user', content: [{ text: 'x' }] }] },
      'messages[0].content',
    ],
    [
      'a text block without text',
      { ...valid, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages[0].content[0].text',
    ],
    [
      'an image without data',
      {
        ...valid,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }],
      },
      'messages[0].content[0].source.data',
    ],
    [
      'a tool_use with a string input',
      { ...valid, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: '{}' }] }] },
      'messages[0].content[0].input',
    ],
    [
      'a tool_result without tool_use_id',
      { ...valid, messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] },
      'messages[0].content[0].tool_use_id',
    ],
    ['system blocks that are not text', { ...valid, system: [{ type: 'image', source: {} }] }, 'system[0].type'],
    ['a custom tool without input_schema', { ...valid, tools: [{ name: 'f' }] }, 'tools[0].input_schema'],
    ['a tool without a name', { ...valid, tools: [{ input_schema: { type: 'object' } }] }, 'tools[0].name'],
    [
      'a tool name with spaces',
      { ...valid, tools: [{ name: 'bad name!', input_schema: { type: 'object' } }] },
      'tools[0].name',
    ],
    [
      'a tool name over 64 characters',
      { ...valid, tools: [{ name: 'x'.repeat(65), input_schema: { type: 'object' } }] },
      'tools[0].name',
    ],
    ['an unknown tool_choice', { ...valid, tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
    ['tool_choice tool without a name', { ...valid, tool_choice: { type: 'tool' } }, 'tool_choice.name'],
    ['temperature above 1', { ...valid, temperature: 1.5 }, 'temperature'],
    ['stop_sequences as a string', { ...valid, stop_sequences: 'END' }, 'stop_sequences'],
    ['stream as a string', { ...valid, stream: 'yes' }, 'stream'],
  ])('rejects %s naming %s', (_name, body, param) => {
    expect(firstIssue(body)?.param).toBe(param);
  });

  it('explains a bad role', () => {
    expect(firstIssue({ ...valid, messages: [{ role: 'bot', content: 'x' }] })?.message).toBe(
      "role must be one of 'user', 'assistant', 'system'",
    );
  });
});
