import type { AnthropicStopReason, ChatFinishReason } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { cachedMessage, jsonToolMessage, textMessage, thinkingMessage, toolUseMessage } from './anthropic.fixtures';
import { finishReason, fromAnthropicMessage, tokenCount } from './anthropic.response';

describe('fromAnthropicMessage', () => {
  it('maps a text answer', () => {
    expect(fromAnthropicMessage(textMessage, { created: 1_700_000_000 })).toEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-5-5',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 25,
        completion_tokens: 12,
        total_tokens: 37,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it('keeps thinking blocks as reasoning_content and thinking_blocks, signatures and redacted data unchanged', () => {
    const { message, finish_reason } = fromAnthropicMessage(thinkingMessage).choices[0];
    expect(finish_reason).toBe('tool_calls');
    expect(message).toEqual({
      role: 'assistant',
      content: 'Checking.',
      refusal: null,
      tool_calls: [
        { id: 'toolu_01T1x1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
      ],
      reasoning_content: 'The user wants the weather. ',
      thinking_blocks: [
        { type: 'thinking', thinking: 'The user wants the weather. ', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
      ],
    });
  });

  it('maps tool_use blocks to tool calls with JSON-string arguments', () => {
    const choice = fromAnthropicMessage(toolUseMessage).choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Let me check the weather.');
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      },
      { id: 'toolu_02B19r01rx01mr028946mr0', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  it('counts cache reads and writes as prompt tokens and reports reads as cached', () => {
    const response = fromAnthropicMessage(cachedMessage);
    expect(response.usage).toEqual({
      prompt_tokens: 2010,
      completion_tokens: 4096,
      total_tokens: 6106,
      prompt_tokens_details: { cached_tokens: 1800 },
      completion_tokens_details: { reasoning_tokens: 1000 },
    });
    expect(response.choices[0].finish_reason).toBe('length');
  });

  it('turns the forced response_format tool back into message content', () => {
    const choice = fromAnthropicMessage(jsonToolMessage, { jsonTool: 'weather_report' }).choices[0];
    expect(choice.message.content).toBe('{"city":"Paris","temperature_c":21}');
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.finish_reason).toBe('stop');
  });

  it('counts only whole, non-negative numbers as tokens: text, fractions and negative counts are none', () => {
    const usage = {
      input_tokens: '10',
      output_tokens: -7,
      cache_read_input_tokens: 2.5,
      cache_creation_input_tokens: null,
    };
    const response = fromAnthropicMessage({ ...textMessage, usage } as never);
    expect(response.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect(tokenCount('10')).toBe(0);
    expect(tokenCount(12)).toBe(12);
  });

  it('adds nothing for a text block without text (not the word "undefined")', () => {
    const content = [{ type: 'text' }, { type: 'text', text: null }, { type: 'text', text: 'ok' }];
    const response = fromAnthropicMessage({ ...textMessage, content } as never);
    expect(response.choices[0].message.content).toBe('ok');
  });

  it('a content-less answer has empty string content', () => {
    const response = fromAnthropicMessage({ ...textMessage, content: [] });
    expect(response.choices[0].message.content).toBe('');
  });
});

describe('finishReason', () => {
  it.each<[AnthropicStopReason | null, ChatFinishReason]>([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    [null, 'stop'],
  ])('%s -> %s', (reason, expected) => {
    expect(finishReason(reason)).toBe(expected);
  });
});
