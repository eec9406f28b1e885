import type { AnthropicMessage, AnthropicStreamEvent, AnthropicUsage } from '@app/contracts';

/**
 * Recorded-shape Anthropic Messages payloads (API version 2026-10-21, as the SDK
 * types describe them) for the mapping tests. Test data only.
 */

export function usage(overrides: Partial<AnthropicUsage> = {}): AnthropicUsage {
  return {
    cache_creation: null,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    inference_geo: 'not_available',
    input_tokens: 25,
    output_tokens: 12,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: 'standard',
    ...overrides,
  };
}

function message(overrides: Partial<AnthropicMessage>): AnthropicMessage {
  return {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-5-5',
    container: null,
    diagnostics: null,
    content: [],
    stop_reason: 'end_turn',
    stop_details: null,
    stop_sequence: null,
    usage: usage(),
    ...overrides,
  };
}

export const textMessage = message({
  content: [{ type: 'text', text: 'Hello! How can I help?', citations: null }],
});

export const toolUseMessage = message({
  id: 'msg_01Aq9w938a90dw8q',
  content: [
    { type: 'text', text: 'Let me check the weather.', citations: null },
    {
      type: 'tool_use',
      id: 'toolu_01A09q90qw90lq917835lq9',
      name: 'get_weather',
      input: { location: 'San Francisco, CA', unit: 'celsius' },
      caller: { type: 'direct' },
    },
    {
      type: 'tool_use',
      id: 'toolu_02B19r01rx01mr028946mr0',
      name: 'get_time',
      input: {},
      caller: { type: 'direct' },
    },
  ],
  stop_reason: 'tool_use',
  usage: usage({ input_tokens: 400, output_tokens: 90 }),
});

export const cachedMessage = message({
  content: [{ type: 'text', text: 'Cached answer.', citations: null }],
  stop_reason: 'max_tokens',
  usage: usage({
    input_tokens: 10,
    cache_read_input_tokens: 1800,
    cache_creation_input_tokens: 200,
    cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 0 },
    output_tokens: 4096,
    output_tokens_details: { thinking_tokens: 1000 },
  }),
});

export const jsonToolMessage = message({
  content: [
    {
      type: 'tool_use',
      id: 'toolu_03json',
      name: 'weather_report',
      input: { city: 'Paris', temperature_c: 21 },
      caller: { type: 'direct' },
    },
  ],
  stop_reason: 'tool_use',
});

/** The stream's `message_delta`: why it stopped and its output tokens (input counts come with `message_start`). */
function messageDelta(
  stopReason: 'end_turn' | 'tool_use',
  outputTokens: number,
  counts: Partial<Record<'input_tokens' | 'cache_creation_input_tokens' | 'cache_read_input_tokens', number>> = {},
): AnthropicStreamEvent {
  return {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null, stop_details: null, container: null },
    usage: {
      output_tokens: outputTokens,
      input_tokens: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      output_tokens_details: null,
      server_tool_use: null,
      ...counts,
    },
  };
}

const start: AnthropicStreamEvent = {
  type: 'message_start',
  message: message({
    stop_reason: null,
    usage: usage({ input_tokens: 472, output_tokens: 2, cache_read_input_tokens: 100 }),
  }),
};

/** Extended thinking before a tool call: a signed thinking block, a redacted one, text, tool_use. */
export const thinkingMessage = message({
  id: 'msg_01Thinking',
  content: [
    { type: 'thinking', thinking: 'The user wants the weather. ', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
    { type: 'text', text: 'Checking.', citations: null },
    {
      type: 'tool_use',
      id: 'toolu_01T1x1',
      name: 'get_weather',
      input: { location: 'Paris' },
      caller: { type: 'direct' },
    },
  ],
  stop_reason: 'tool_use',
});

/** The same answer streamed: thinking deltas, the signature, a redacted block, text, a tool call. */
export const thinkingStream: AnthropicStreamEvent[] = [
  start,
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The user wants ' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'the weather. ' } },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
  },
  { type: 'content_block_stop', index: 0 },
  {
    type: 'content_block_start',
    index: 1,
    content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
  },
  { type: 'content_block_stop', index: 1 },
  { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '', citations: null } },
  { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Checking.' } },
  { type: 'content_block_stop', index: 2 },
  {
    type: 'content_block_start',
    index: 3,
    content_block: { type: 'tool_use', id: 'toolu_01T1x1', name: 'get_weather', input: {}, caller: { type: 'direct' } },
  },
  { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{"location":"Paris"}' } },
  { type: 'content_block_stop', index: 3 },
  messageDelta('tool_use', 40),
  { type: 'message_stop' },
];

/** Text answer: `Hello` + `!`, as the API streams it. */
export const textStream: AnthropicStreamEvent[] = [
  start,
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } },
  { type: 'content_block_stop', index: 0 },
  messageDelta('end_turn', 15),
  { type: 'message_stop' },
];

/** Text, then two tool calls: one with streamed JSON, one with an empty input. */
export const toolStream: AnthropicStreamEvent[] = [
  start,
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } },
  { type: 'content_block_stop', index: 0 },
  {
    type: 'content_block_start',
    index: 1,
    content_block: { type: 'tool_use', id: 'toolu_01T1x1', name: 'get_weather', input: {}, caller: { type: 'direct' } },
  },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"location": "San' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' Francisco, CA"}' } },
  { type: 'content_block_stop', index: 1 },
  {
    type: 'content_block_start',
    index: 2,
    content_block: { type: 'tool_use', id: 'toolu_02T2y2', name: 'get_time', input: {}, caller: { type: 'direct' } },
  },
  { type: 'content_block_stop', index: 2 },
  messageDelta('tool_use', 89, { input_tokens: 472, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 }),
  { type: 'message_stop' },
];

/** A `response_format` answer carried by the forced JSON tool. */
export const jsonToolStream: AnthropicStreamEvent[] = [
  start,
  {
    type: 'content_block_start',
    index: 0,
    content_block: {
      type: 'tool_use',
      id: 'toolu_03json',
      name: 'weather_report',
      input: {},
      caller: { type: 'direct' },
    },
  },
  { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: 'ris"}' } },
  { type: 'content_block_stop', index: 0 },
  messageDelta('tool_use', 20),
  { type: 'message_stop' },
];
