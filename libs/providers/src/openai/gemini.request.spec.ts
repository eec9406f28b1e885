import type { ChatRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { SKIP_THOUGHT_SIGNATURE, toGeminiChatRequest } from './gemini.request';

const call = (id: string, signature?: string) => ({
  id,
  type: 'function' as const,
  function: { name: 'f', arguments: '{}' },
  ...(signature ? { extra_content: { google: { thought_signature: signature } } } : {}),
});

const request = (...calls: Array<ReturnType<typeof call>>): ChatRequest => ({
  model: 'gemini-3-pro-preview',
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: null, tool_calls: calls },
    ...calls.map((c) => ({ role: 'tool' as const, tool_call_id: c.id, content: 'ok' })),
  ],
});

describe('toGeminiChatRequest', () => {
  it("gives the first of an assistant turn's unsigned tool calls Google's stand-in signature", () => {
    const out = toGeminiChatRequest(request(call('a'), call('b')));
    expect(out.messages[1]).toMatchObject({
      tool_calls: [{ id: 'a', extra_content: { google: { thought_signature: SKIP_THOUGHT_SIGNATURE } } }, { id: 'b' }],
    });
    expect(out.messages[1]).not.toHaveProperty('tool_calls.1.extra_content');
  });

  it('sends a turn with its own signature, and a request without tool turns, as they came', () => {
    const signed = request(call('a', 'real-signature'), call('b'));
    expect(toGeminiChatRequest(signed)).toBe(signed);
    const plain: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    expect(toGeminiChatRequest(plain)).toBe(plain);
  });
});
