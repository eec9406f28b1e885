import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const model = 'mock/echo-1';

/** The built-in mock provider through the whole gateway, called with the official `openai` SDK. */
describe('gateway: the mock provider', () => {
  let platform: TestPlatform;
  let openai: OpenAI;

  beforeAll(async () => {
    platform = await startPlatform({ apps: ['gateway'] });
    openai = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('answers n chat choices, in JSON and streamed, with usage for all of them', async () => {
    const messages = [{ role: 'user' as const, content: 'one two' }];
    const json = await openai.chat.completions.create({ model, messages, n: 2 });
    expect(json.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, '[mock] one two'],
      [1, '[mock] one two'],
    ]);
    const stream = await openai.chat.completions.create({
      model,
      messages,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) texts[choice.index] += choice.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(texts).toEqual(['[mock] one two', '[mock] one two']);
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 6, total_tokens: 8 });
    expect(json.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 6 });
  });

  it('answers every legacy prompt, n times each, prompt-major; token ids too', async () => {
    const batch = await openai.completions.create({ model, prompt: ['a', 'b c'], n: 2 });
    expect(batch.choices.map((c) => [c.index, c.text])).toEqual([
      [0, '[mock] a'],
      [1, '[mock] a'],
      [2, '[mock] b c'],
      [3, '[mock] b c'],
    ]);
    expect(batch.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 10 });
    const stream = await openai.completions.create({
      model,
      prompt: [[1, 2, 3], [4]],
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) texts[choice.index] += choice.text;
      usage = chunk.usage ?? usage;
    }
    expect(texts).toEqual(['[mock] 1 2 3', '[mock] 4']);
    expect(usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 6 });
  });
});
