import type { AnthropicSseEvent, ChatChunk } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import {
  type MessagesStreamPart,
  messagesEvents,
  nativeParts,
  NativeEventParts,
  translatedParts,
} from './messages-stream';

const sse = (type: string, fields: Record<string, unknown> = {}): AnthropicSseEvent => ({
  event: type,
  data: { type, ...fields },
});

const start = sse('message_start', {
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-20250514',
    content: [],
    stop_reason: null,
    usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 200, cache_creation_input_tokens: 50 },
  },
});
const delta = sse('message_delta', {
  delta: { stop_reason: 'pause_turn', stop_sequence: null },
  usage: { output_tokens: 42, server_tool_use: { web_search_requests: 1 } },
});

async function drain(parts: { first: MessagesStreamPart | undefined; rest: AsyncIterator<MessagesStreamPart> }) {
  const all: MessagesStreamPart[] = parts.first ? [parts.first] : [];
  for (let next = await parts.rest.next(); !next.done; next = await parts.rest.next()) all.push(next.value);
  return all;
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe('NativeEventParts', () => {
  it('names the requested model in message_start, and reads the served one off it', () => {
    const part = new NativeEventParts('fast').part(start);
    expect(part.model).toBe('claude-sonnet-4-20250514');
    expect(part.events).toEqual([
      {
        event: 'message_start',
        data: { ...start.data, message: { ...(start.data.message as object), model: 'fast' } },
      },
    ]);
    expect((start.data.message as { model: string }).model).toBe('claude-sonnet-4-20250514');
  });

  it("gives message_start's usage, updated by message_delta's, with message_delta: cache reads and writes as input", () => {
    const parts = new NativeEventParts('fast');
    expect(parts.part(start).usage).toBeUndefined();
    const last = parts.part(delta);
    expect(last.events).toEqual([delta]);
    expect(last.usage).toEqual({ promptTokens: 260, completionTokens: 42, cachedTokens: 200 });
  });

  it('passes every other event as it is, counting the characters generated', () => {
    const parts = new NativeEventParts('fast');
    const text = sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } });
    const json = sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } });
    const result = sse('content_block_start', { index: 2, content_block: { type: 'web_search_tool_result' } });
    expect([text, json, sse('ping'), result].map((event) => parts.part(event))).toEqual([
      { events: [text], outputChars: 5 },
      { events: [json], outputChars: 5 },
      { events: [sse('ping')], outputChars: 0 },
      { events: [result], outputChars: 0 },
    ]);
  });

  it('nativeParts: the first event, then the rest one by one; closing it closes the events', async () => {
    const events = from([delta, sse('message_stop')]);
    const parts = nativeParts(start, events, 'fast', 12);
    expect(parts.ttftMs).toBe(12);
    const all = await drain(parts);
    expect(all.map((part) => part.events[0].event)).toEqual(['message_start', 'message_delta', 'message_stop']);
    expect(all[1].usage?.promptTokens).toBe(260);
    await expect(parts.rest.return?.()).resolves.toEqual({ done: true, value: undefined });
  });
});

describe('translatedParts', () => {
  const chunk = (fields: Partial<ChatChunk>): ChatChunk => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [],
    ...fields,
  });

  it("translates chunk by chunk, then closes; usage and model are the chunks' own", async () => {
    const first = chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] });
    const finish = chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    const usage = chunk({ usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } });
    const parts = translatedParts({ first, rest: from([finish, usage]), ttftMs: 3 }, 'fast');
    const all = await drain(parts);
    expect(all[0]).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', outputChars: 2 });
    expect(all[2].usage).toEqual({ promptTokens: 9, completionTokens: 1, cachedTokens: 0 });
    const events = [];
    for await (const event of messagesEvents(from(all))) events.push(event);
    expect(events.map((event) => event.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0].data).toMatchObject({ message: { model: 'fast' } });
    expect(events[5].data).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 9 } });
  });

  it('an empty chat stream is still a whole message', async () => {
    const all = await drain(translatedParts({ first: undefined, rest: from([]), ttftMs: 0 }, 'fast'));
    expect(all.flatMap((part) => part.events.map((event) => event.event))).toEqual([
      'message_start',
      'message_delta',
      'message_stop',
    ]);
  });
});
