import type { AnthropicMessageRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { nativeMessagesRequest } from './anthropic-inbound.native';

const body = (messages: AnthropicMessageRequest['messages']): AnthropicMessageRequest => ({
  model: 'anthropic/claude-sonnet-4-5',
  max_tokens: 256,
  tools: [{ type: 'web_search_20250305', name: 'web_search' }],
  messages,
});

describe('nativeMessagesRequest', () => {
  it('is the body itself when no assistant turn has an unsigned thinking block', () => {
    const request = body([
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Hm.', signature: 'sig' },
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
        ],
      },
    ]);
    expect(nativeMessagesRequest(request)).toBe(request);
  });

  it("leaves out the gateway's unsigned thinking blocks, and a turn left with nothing", () => {
    const request = body([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'DeepSeek thought.', signature: '' }] },
      { role: 'user', content: 'And?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Again.', signature: '' },
          { type: 'text', text: 'Hello', citations: null },
        ],
      },
      { role: 'user', content: 'Go on' },
    ]);
    const native = nativeMessagesRequest(request);
    expect(native.messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'user', content: 'And?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello', citations: null }] },
      { role: 'user', content: 'Go on' },
    ]);
    expect(native.tools).toBe(request.tools);
    expect(request.messages).toHaveLength(5);
  });
});
