import { GatewayError } from '@app/contracts';
import { ProviderError } from '@app/providers';
import { describe, expect, it } from 'vitest';
import { MessagesRequest } from './messages-caller';

const body = {
  model: 'claude-then-gpt',
  max_tokens: 64,
  tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const }],
  messages: [
    { role: 'user' as const, content: 'Hi' },
    { role: 'assistant' as const, content: [{ type: 'thinking' as const, thinking: 'DeepSeek', signature: '' }] },
    { role: 'user' as const, content: 'Go on' },
  ],
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('MessagesRequest', () => {
  it("a native target's request: the body with its model, the gateway's unsigned thinking left out", () => {
    const native = new MessagesRequest(body, false).nativeFor('claude-sonnet-4-20250514');
    expect(native).toEqual({
      ...body,
      model: 'claude-sonnet-4-20250514',
      messages: [body.messages[0], body.messages[2]],
    });
  });

  it("what the translation cannot carry is the client's 400 for a plan of translated targets", () => {
    const error = thrown(() => new MessagesRequest(body, false).chat());
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).not.toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 400, param: 'tools[0].type' });
  });

  it('fails one target of a mixed plan alone: a 400 the router passes over to the next target', () => {
    const error = thrown(() => new MessagesRequest(body, true).chatFor('openai'));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_request_error',
      param: 'tools[0].type',
      reason: 'unsupported',
      retryable: false,
      message: expect.stringContaining('Provider "openai" cannot serve this request'),
    });
  });

  it('translates once, with the stream fields a streamed request needs', () => {
    const request = new MessagesRequest({ ...body, tools: undefined }, true);
    const chat = request.chat();
    expect(chat).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(request.chatFor('openai')).toBe(chat);
  });
});
