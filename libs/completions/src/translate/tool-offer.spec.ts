import { type ChatRequest, GatewayError } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { validateChatRequest } from './request-checks';

const fn = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } });
const req = (extra: Partial<ChatRequest>): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const allowed = (mode: 'auto' | 'required', ...names: string[]): ChatRequest['tool_choice'] => ({
  type: 'allowed_tools',
  allowed_tools: { mode, tools: names.map((name) => ({ type: 'function', function: { name } })) },
});

function errorOf(request: ChatRequest): GatewayError | undefined {
  try {
    validateChatRequest(request);
    return undefined;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
}

describe('validateChatRequest: tool_choice against the tools', () => {
  it.each<[string, ChatRequest]>([
    ['no tool_choice and no tools', req({})],
    ['none without tools', req({ tool_choice: 'none' })],
    ['auto without tools', req({ tool_choice: 'auto' })],
    ['required with a tool', req({ tools: [fn('a')], tool_choice: 'required' })],
    ['a named function among the tools', req({ tools: [fn('a'), fn('b')], tool_choice: fn('b') })],
    [
      'allowed_tools, required, one of them given',
      req({ tools: [fn('a')], tool_choice: allowed('required', 'x', 'a') }),
    ],
    ['allowed_tools, auto, none of them given', req({ tools: [fn('a')], tool_choice: allowed('auto', 'x') })],
  ])('accepts %s', (_name, request) => {
    expect(errorOf(request)).toBeUndefined();
  });

  it.each<[string, ChatRequest, RegExp]>([
    ['a named function missing from the tools', req({ tools: [fn('a')], tool_choice: fn('b') }), /'b'/],
    ['a named function without tools', req({ tool_choice: fn('a') }), /'a'/],
    ['required without tools', req({ tool_choice: 'required' }), /requires a tool call/],
    ['required with empty tools', req({ tools: [], tool_choice: 'required' }), /requires a tool call/],
    [
      'allowed_tools, required, none of them given',
      req({ tools: [fn('a')], tool_choice: allowed('required', 'x', 'y') }),
      /requires a tool call/,
    ],
  ])('rejects %s with a 400 naming tool_choice', (_name, request, message) => {
    const err = errorOf(request);
    expect(err?.status).toBe(400);
    expect(err?.param).toBe('tool_choice');
    expect(err?.message).toMatch(message);
  });
});
