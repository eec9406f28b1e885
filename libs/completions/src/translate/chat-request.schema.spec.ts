import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chatRequestSchema } from './chat-request.schema';
import { completionRequestSchema, embeddingRequestSchema } from './completion-request.schema';

/** The first issue as the gateway's validation pipe reports it: `messages[0].role` and a message. */
function firstIssue(schema: z.ZodType, body: unknown): { param: string; message: string } | undefined {
  const result = schema.safeParse(body);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const param = issue.path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
  return { param, message: issue.message };
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] };
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('chatRequestSchema', () => {
  it.each([
    ['the minimal body', chat],
    [
      'a full tool conversation',
      {
        model: 'anthropic/claude-sonnet-4-5',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
            ],
            name: 'ada',
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
          { role: 'assistant', content: [{ type: 'text', text: 'It is 21°C.' }] },
          // A refusal as OpenAI answers it (and the SDK's parse() returns it): content null, the refusal beside it.
          { role: 'assistant', content: null, refusal: "I can't help with that." },
        ],
        tools: [weather],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
        n: 1,
        max_tokens: 512,
        max_completion_tokens: null,
        temperature: 0,
        top_p: 1,
        stream: true,
        stream_options: { include_usage: true },
        stop: ['END', 'STOP'],
        seed: 7,
        logprobs: false,
        user: 'u-1',
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'weather_report', schema: { type: 'object' }, strict: true },
        },
      },
    ],
    ['a legacy function message', { ...chat, messages: [{ role: 'function', name: 'f', content: 'ok' }] }],
    [
      'unknown user part types (passed on)',
      { ...chat, messages: [{ role: 'user', content: [{ type: 'video_url', video_url: {} }] }] },
    ],
    [
      'nulls for optional OpenAI fields',
      { ...chat, n: null, temperature: null, stop: null, stream: null, max_tokens: null },
    ],
    ['each tool_choice string', { ...chat, tools: [weather], tool_choice: 'required' }],
    ['json_object', { ...chat, response_format: { type: 'json_object' } }],
    ['a top_k for vLLM', { ...chat, top_k: 40 }],
    ['logit_bias and metadata', { ...chat, logit_bias: { '50256': -100, '42': 3.5 }, metadata: { job: 'nightly' } }],
  ])('accepts %s', (_name, body) => {
    expect(firstIssue(chatRequestSchema, body)).toBeUndefined();
  });

  it('keeps unknown fields', () => {
    expect(chatRequestSchema.parse({ ...chat, top_k: 40, reasoning: { effort: 'low' } })).toMatchObject({
      top_k: 40,
      reasoning: { effort: 'low' },
    });
  });

  it.each([
    ['a missing model', { messages: chat.messages }, 'model'],
    ['an empty model', { ...chat, model: '' }, 'model'],
    ['a numeric model', { ...chat, model: 4 }, 'model'],
    ['missing messages', { model: 'm' }, 'messages'],
    ['empty messages', { ...chat, messages: [] }, 'messages'],
    ['messages as an object', { ...chat, messages: { role: 'user' } }, 'messages'],
    ['an unknown role', { ...chat, messages: [chat.messages[0], { role: 'bot', content: 'x' }] }, 'messages[1].role'],
    ['a missing role', { ...chat, messages: [{ content: 'x' }] }, 'messages[0].role'],
    ['a user message without content', { ...chat, messages: [{ role: 'user' }] }, 'messages[0].content'],
    ['numeric content', { ...chat, messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
    [
      'a text part without text',
      { ...chat, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages[0].content[0].text',
    ],
    [
      'an image part without url',
      {
        ...chat,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x' },
              { type: 'image_url', image_url: {} },
            ],
          },
        ],
      },
      'messages[0].content[1].image_url.url',
    ],
    [
      'an image part in a system message',
      { ...chat, messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      'messages[0].content[0].type',
    ],
    [
      'a tool message without tool_call_id',
      { ...chat, messages: [{ role: 'tool', content: 'x' }] },
      'messages[0].tool_call_id',
    ],
    [
      'an assistant message with neither content nor tool_calls',
      { ...chat, messages: [{ role: 'assistant', content: null }] },
      'messages[0].content',
    ],
    [
      'a tool call without arguments',
      {
        ...chat,
        messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }] }],
      },
      'messages[0].tool_calls[0].function.arguments',
    ],
    ['n = 0', { ...chat, n: 0 }, 'n'],
    ['n = 129', { ...chat, n: 129 }, 'n'],
    ['n = 1.5', { ...chat, n: 1.5 }, 'n'],
    ['max_tokens = 0', { ...chat, max_tokens: 0 }, 'max_tokens'],
    ['max_tokens = -5', { ...chat, max_tokens: -5 }, 'max_tokens'],
    ['max_tokens above a million', { ...chat, max_tokens: 1_000_001 }, 'max_tokens'],
    ['max_completion_tokens as a string', { ...chat, max_completion_tokens: '100' }, 'max_completion_tokens'],
    ['temperature 2.5', { ...chat, temperature: 2.5 }, 'temperature'],
    ['temperature -0.1', { ...chat, temperature: -0.1 }, 'temperature'],
    ['top_p 1.1', { ...chat, top_p: 1.1 }, 'top_p'],
    ['stream as a string', { ...chat, stream: 'true' }, 'stream'],
    ['stream_options as a boolean', { ...chat, stream_options: true }, 'stream_options'],
    ['tools as an object', { ...chat, tools: weather }, 'tools'],
    ['a tool of another type', { ...chat, tools: [{ ...weather, type: 'retrieval' }] }, 'tools[0].type'],
    [
      'a tool name with spaces',
      { ...chat, tools: [{ type: 'function', function: { name: 'get weather' } }] },
      'tools[0].function.name',
    ],
    [
      'a 65-character tool name',
      { ...chat, tools: [{ type: 'function', function: { name: 'x'.repeat(65) } }] },
      'tools[0].function.name',
    ],
    [
      'tool parameters as a string',
      { ...chat, tools: [{ type: 'function', function: { name: 'f', parameters: '{}' } }] },
      'tools[0].function.parameters',
    ],
    ['an unknown tool_choice', { ...chat, tool_choice: 'always' }, 'tool_choice'],
    ['an unknown response_format type', { ...chat, response_format: { type: 'xml' } }, 'response_format.type'],
    [
      'json_schema without a name',
      { ...chat, response_format: { type: 'json_schema', json_schema: { schema: {} } } },
      'response_format.json_schema.name',
    ],
    [
      'json_schema with a non-object schema',
      { ...chat, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: 'object' } } },
      'response_format.json_schema.schema',
    ],
    ['five stop sequences', { ...chat, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['a numeric stop', { ...chat, stop: 5 }, 'stop'],
    ['logit_bias as a string', { ...chat, logit_bias: 'x' }, 'logit_bias'],
    ['a logit bias above 100', { ...chat, logit_bias: { '42': 101 } }, 'logit_bias.42'],
    ['metadata as a string', { ...chat, metadata: 'x' }, 'metadata'],
    ['a numeric metadata value', { ...chat, metadata: { run: 7 } }, 'metadata.run'],
  ])('rejects %s naming %s', (_name, body, param) => {
    expect(firstIssue(chatRequestSchema, body)?.param).toBe(param);
  });

  it.each([
    [
      { ...chat, messages: [{ role: 'bot', content: 'x' }] },
      'role must be one of system, developer, user, assistant, tool, function',
    ],
    [{ ...chat, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop must be a string or an array of at most 4 strings'],
    [
      { ...chat, messages: [{ role: 'user', content: 42 }] },
      'content of a user message must be a string or an array of content parts',
    ],
    [
      { ...chat, messages: [{ role: 'tool', content: 'x' }] },
      'tool_call_id is required: the id of the tool call this message answers',
    ],
  ])('explains %#', (body, message) => {
    expect(firstIssue(chatRequestSchema, body)?.message).toBe(message);
  });
});

describe('completionRequestSchema', () => {
  it.each([
    [
      'a string prompt',
      { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 7, temperature: 0 },
    ],
    ['a batch of prompts', { model: 'm', prompt: ['a', 'b'], n: 2, best_of: 3, echo: true, logprobs: 5, suffix: '\n' }],
    ['token ids', { model: 'm', prompt: [1, 2, 3] }],
    ['batches of token ids', { model: 'm', prompt: [[1, 2], [3]] }],
    [
      'streaming with usage',
      { model: 'm', prompt: 'x', stream: true, stream_options: { include_usage: true }, stop: '\n' },
    ],
  ])('accepts %s', (_name, body) => {
    expect(firstIssue(completionRequestSchema, body)).toBeUndefined();
  });

  it.each([
    ['a missing prompt', { model: 'm' }, 'prompt'],
    ['a numeric prompt', { model: 'm', prompt: 5 }, 'prompt'],
    ['a mixed prompt array', { model: 'm', prompt: ['a', 1] }, 'prompt'],
    ['max_tokens below 0', { model: 'm', prompt: 'x', max_tokens: -1 }, 'max_tokens'],
    ['logprobs 6', { model: 'm', prompt: 'x', logprobs: 6 }, 'logprobs'],
    ['n 200', { model: 'm', prompt: 'x', n: 200 }, 'n'],
    ['echo as a string', { model: 'm', prompt: 'x', echo: 'yes' }, 'echo'],
  ])('rejects %s naming %s', (_name, body, param) => {
    expect(firstIssue(completionRequestSchema, body)?.param).toBe(param);
  });
});

describe('embeddingRequestSchema', () => {
  it.each([
    ['a string', { model: 'text-embedding-3-small', input: 'The food was delicious.' }],
    ['strings with options', { model: 'm', input: ['a', 'b'], encoding_format: 'base64', dimensions: 256, user: 'u' }],
    ['token ids', { model: 'm', input: [1, 2, 3] }],
    ['batches of token ids', { model: 'm', input: [[1], [2, 3]] }],
  ])('accepts %s', (_name, body) => {
    expect(firstIssue(embeddingRequestSchema, body)).toBeUndefined();
  });

  it.each([
    ['a missing input', { model: 'm' }, 'input'],
    ['an empty string', { model: 'm', input: '' }, 'input'],
    ['an empty array', { model: 'm', input: [] }, 'input'],
    ['an empty string in the batch', { model: 'm', input: ['a', ''] }, 'input[1]'],
    ['an object', { model: 'm', input: { text: 'x' } }, 'input'],
    ['too many inputs', { model: 'm', input: Array.from({ length: 2049 }, () => 'x') }, 'input'],
    ['an unknown encoding', { model: 'm', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    ['zero dimensions', { model: 'm', input: 'x', dimensions: 0 }, 'dimensions'],
  ])('rejects %s naming %s', (_name, body, param) => {
    expect(firstIssue(embeddingRequestSchema, body)?.param).toBe(param);
  });
});

describe('OpenAPI components', () => {
  it.each([
    [chatRequestSchema, 'ChatCompletionRequest'],
    [completionRequestSchema, 'CompletionRequest'],
    [embeddingRequestSchema, 'EmbeddingRequest'],
  ])('render as JSON Schema with a named component (%#)', (schema, id) => {
    const json = z.toJSONSchema(schema, { io: 'input' }) as { $defs?: Record<string, unknown>; $ref?: string };
    expect(json.$ref).toBe(`#/$defs/${id}`);
    expect(json.$defs?.[id]).toMatchObject({ type: 'object', required: expect.arrayContaining(['model']) });
  });
});
