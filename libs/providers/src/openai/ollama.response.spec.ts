import type { ChatChunk, ChatResponse } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { firstToolCall, firstToolCallChunks } from './ollama.response';

const call = (id: string, name: string) => ({ id, type: 'function' as const, function: { name, arguments: '{}' } });
const chunk = (delta: ChatChunk['choices'][number]['delta']): ChatChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'llama3',
  choices: [{ index: 0, delta, finish_reason: null, logprobs: null }],
});

describe('parallel_tool_calls: false on Ollama, which ignores it', () => {
  it('keeps the first tool call of each choice, and an answer with one as it is', () => {
    const answer: ChatResponse = {
      id: 'c',
      object: 'chat.completion',
      created: 1,
      model: 'llama3',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: null, tool_calls: [call('a', 'x'), call('b', 'y')] },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
    };
    expect(firstToolCall(answer).choices[0].message.tool_calls).toEqual([call('a', 'x')]);
    const single = firstToolCall(answer);
    expect(firstToolCall(single)).toBe(single);
  });

  it('streams the first call only, whether later calls come in chunks of their own (left out) or beside it', async () => {
    async function* upstream(): AsyncGenerator<ChatChunk> {
      yield chunk({ role: 'assistant', content: '' });
      yield chunk({
        tool_calls: [
          { index: 0, ...call('a', 'x') },
          { index: 1, ...call('b', 'y') },
        ],
      });
      yield chunk({ tool_calls: [{ index: 2, ...call('c', 'z') }] });
      yield chunk({ tool_calls: [{ index: 0, function: { arguments: '' } }] });
    }
    const out: ChatChunk[] = [];
    for await (const mended of firstToolCallChunks(upstream())) out.push(mended);
    expect(out.map((c) => c.choices[0].delta)).toEqual([
      { role: 'assistant', content: '' },
      { tool_calls: [{ index: 0, ...call('a', 'x') }] },
      // The chunk that held only a later call is left out whole (OpenAI sends no empty chunk).
      { tool_calls: [{ index: 0, function: { arguments: '' } }] },
    ]);
  });
});
