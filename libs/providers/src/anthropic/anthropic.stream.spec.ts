import type { AnthropicStreamEvent, ChatChunk } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../errors';
import { jsonToolStream, textStream, thinkingStream, toolStream } from './anthropic.fixtures';
import { anthropicStreamToChunks, type StreamContext } from './anthropic.stream';

async function* replay(events: AnthropicStreamEvent[]): AsyncGenerator<AnthropicStreamEvent> {
  for (const event of events) yield event;
}

async function collect(events: AnthropicStreamEvent[], ctx: StreamContext = {}): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of anthropicStreamToChunks(replay(events), { created: 1, ...ctx })) chunks.push(chunk);
  return chunks;
}

const deltas = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta);

describe('anthropicStreamToChunks', () => {
  it('streams a role chunk, text deltas, a finish chunk and a usage chunk', async () => {
    const chunks = await collect(textStream);
    expect(deltas(chunks)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hello' },
      { content: '!' },
      {},
      undefined,
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, 'stop', undefined]);
    expect(chunks.every((c) => c.id === 'msg_01XFDUDYJgAACzvnptvVoYEL' && c.object === 'chat.completion.chunk')).toBe(
      true,
    );
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 572,
        completion_tokens: 15,
        total_tokens: 587,
        prompt_tokens_details: { cached_tokens: 100 },
      },
    });
  });

  it('streams tool calls: index, id and name first, then argument fragments', async () => {
    const chunks = await collect(toolStream);
    expect(deltas(chunks)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Checking.' },
      {
        tool_calls: [
          { index: 0, id: 'toolu_01T1x1', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"location": "San' } }] },
      { tool_calls: [{ index: 0, function: { arguments: ' Francisco, CA"}' } }] },
      {
        tool_calls: [{ index: 1, id: 'toolu_02T2y2', type: 'function', function: { name: 'get_time', arguments: '' } }],
      },
      { tool_calls: [{ index: 1, function: { arguments: '{}' } }] },
      {},
      undefined,
    ]);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 572, completion_tokens: 89 });
  });

  it('streams the response_format tool input as content and finishes with stop', async () => {
    const chunks = await collect(jsonToolStream, { jsonTool: 'weather_report' });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('{"city": "Paris"}');
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
  });

  it('a stream cut before message_stop is a retryable upstream error', async () => {
    const error = await collect(textStream.slice(0, 3), { provider: 'claude' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502, retryable: true, provider: 'claude' });
  });

  it('streams thinking as LiteLLM does: reasoning_content and thinking_blocks deltas, then the signature', async () => {
    const chunks = await collect(thinkingStream);
    expect(deltas(chunks)).toEqual([
      { role: 'assistant', content: '' },
      { reasoning_content: 'The user wants ', thinking_blocks: [{ type: 'thinking', thinking: 'The user wants ' }] },
      { reasoning_content: 'the weather. ', thinking_blocks: [{ type: 'thinking', thinking: 'the weather. ' }] },
      { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' }] },
      { thinking_blocks: [{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' }] },
      { content: 'Checking.' },
      {
        tool_calls: [
          { index: 0, id: 'toolu_01T1x1', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"location":"Paris"}' } }] },
      {},
      undefined,
    ]);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('ignores events it does not know (future types)', async () => {
    const events = [
      textStream[0],
      { type: 'content_block_start', index: 0, content_block: { type: 'future_block', x: 1 } },
      { type: 'content_block_delta', index: 0, delta: { type: 'future_delta', y: 'hmm' } },
      { type: 'content_block_stop', index: 0 },
      ...textStream.slice(1),
    ] as AnthropicStreamEvent[];
    const text = (await collect(events)).map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello!');
  });
});
