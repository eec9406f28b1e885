import { GatewayError, type AnthropicMessageRequest } from '@app/contracts';

/** Anthropic Messages request fixtures for the inbound translation tests. Test data only. */

export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

export function body(extra: Partial<AnthropicMessageRequest> & Record<string, unknown> = {}): AnthropicMessageRequest {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'Hello, Claude' }],
    ...extra,
  };
}

export const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: {
    type: 'object' as const,
    properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } },
    required: ['location'],
  },
};

/** A tool round trip as Anthropic's docs show it: question, tool_use, tool_result. */
export const toolConversation: AnthropicMessageRequest['messages'] = [
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

/** An assistant turn of a tool loop with extended thinking on, as Anthropic answered it. */
export const thinkingTurn = [
  { type: 'thinking' as const, thinking: 'The user wants the weather. ', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
  { type: 'redacted_thinking' as const, data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
  { type: 'text' as const, text: 'Checking.' },
  { type: 'tool_use' as const, id: 'toolu_01T1x1', name: 'get_weather', input: { location: 'Paris' } },
];

/** Its `thinking_blocks` on the chat format. */
export const thinkingBlocks = [
  { type: 'thinking', thinking: 'The user wants the weather. ', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
  { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
];

export function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}
