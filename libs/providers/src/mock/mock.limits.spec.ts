import { GatewayError } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { limitText, rejectChatLogprobs, rejectCompletionLogprobs } from './mock.limits';

describe('limitText', () => {
  it.each<[string, Parameters<typeof limitText>[1], number | undefined, string, 'stop' | 'length', string?]>([
    ['[mock] one two three', undefined, undefined, '[mock] one two three', 'stop'],
    ['[mock] one two three', 'two', undefined, '[mock] one ', 'stop', 'two'],
    ['[mock] one two three', ['three', 'one'], undefined, '[mock] ', 'stop', 'one'],
    ['[mock] one two three', ['', 'zzz'], undefined, '[mock] one two three', 'stop'],
    ['[mock] one two three', null, 2, '[mock] one', 'length'],
    ['[mock] one two three', undefined, 4, '[mock] one two three', 'stop'],
    ['[mock] one two three', 'three', 3, '[mock] one two ', 'stop', 'three'],
    ['[mock] one two three', 'three', 1, '[mock]', 'length'],
  ])('%j, stop %j, %s tokens: %j (%s, before %s)', (text, stop, maxTokens, expected, finish, stopSequence) => {
    const ended = stopSequence === undefined ? { text: expected, finish } : { text: expected, finish, stopSequence };
    expect(limitText(text, stop, maxTokens)).toEqual(ended);
  });
});

describe('logprobs', () => {
  it.each([
    [{ logprobs: true }, 'logprobs'],
    [{ logprobs: true, top_logprobs: 2 }, 'logprobs'],
    [{ top_logprobs: 0 }, 'top_logprobs'],
  ])('chat %j is a 400 naming %s', (fields, param) => {
    const call = () => rejectChatLogprobs({ model: 'echo-1', messages: [], ...fields });
    expect(call).toThrow(GatewayError);
    expect(call).toThrow(expect.objectContaining({ param, status: 400 }));
  });

  it('lets chat without logprobs through, and refuses legacy logprobs at any value, 0 included', () => {
    expect(() => rejectChatLogprobs({ model: 'echo-1', messages: [], logprobs: false })).not.toThrow();
    expect(() => rejectCompletionLogprobs({ model: 'echo-1', prompt: 'x', logprobs: 0 })).toThrow(
      expect.objectContaining({ param: 'logprobs' }),
    );
    expect(() => rejectCompletionLogprobs({ model: 'echo-1', prompt: 'x' })).not.toThrow();
  });
});
