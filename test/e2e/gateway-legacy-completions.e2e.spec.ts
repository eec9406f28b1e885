import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/** `POST /v1/completions` (legacy) through the gateway, called with the official `openai` SDK. */
describe('gateway legacy completions', () => {
  const anthropic = new FakeAnthropicServer({ apiKey: 'sk-ant-legacy' });
  /** Google's OpenAI-compatible layer: chat only, so legacy completions go through chat. */
  const gemini = new FakeOpenAIServer({ apiKey: 'gemini-legacy', basePath: '/v1beta/openai' });
  /** OpenAI itself: legacy completions natively. */
  const openai = new FakeOpenAIServer({ apiKey: 'sk-openai-legacy' });
  let platform: TestPlatform;
  let sdk: OpenAI;

  beforeAll(async () => {
    await Promise.all([anthropic.start(), gemini.start(), openai.start()]);
    platform = await startPlatform({
      apps: ['gateway'],
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-legacy',
        ANTHROPIC_BASE_URL: anthropic.origin,
        GEMINI_API_KEY: 'gemini-legacy',
        GEMINI_BASE_URL: gemini.baseURL,
        OPENAI_API_KEY: 'sk-openai-legacy',
        OPENAI_BASE_URL: openai.baseURL,
      },
    });
    sdk = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([anthropic.close(), gemini.close(), openai.close()]);
  });

  it.each(['anthropic/claude-3-5-haiku-latest', 'gemini/gemini-2.0-flash'])(
    'echoes the prompt on %s (served through chat) in streams as in JSON',
    async (model) => {
      const prompt = 'Once upon a time';
      const json = await sdk.completions.create({ model, prompt, echo: true, max_tokens: 50 });
      expect(json.choices[0].text.startsWith(prompt)).toBe(true);
      expect(json.choices[0].text.length).toBeGreaterThan(prompt.length);

      const stream = await sdk.completions.create({ model, prompt, echo: true, max_tokens: 50, stream: true });
      let text = '';
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        text += chunk.choices[0]?.text ?? '';
      }
      expect(text).toBe(json.choices[0].text);
    },
  );

  it('scores a prompt with max_tokens 0 where legacy completions are native, and refuses it by name through chat', async () => {
    const scored = await sdk.completions.create({
      model: 'openai/gpt-3.5-turbo-instruct',
      prompt: 'The sky is blue',
      echo: true,
      max_tokens: 0,
    });
    expect(scored.object).toBe('text_completion');
    expect(openai.lastRequest?.body).toMatchObject({ max_tokens: 0, echo: true });
    await expect(
      sdk.completions.create({ model: 'anthropic/claude-3-5-haiku-latest', prompt: 'x', echo: true, max_tokens: 0 }),
    ).rejects.toMatchObject({ status: 400, param: 'max_tokens' });
    await expect(
      sdk.completions.create({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'x', max_tokens: -1 }),
    ).rejects.toMatchObject({ status: 400, param: 'max_tokens' });
  });
});
