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

export function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}
