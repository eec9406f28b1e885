import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/** OpenAI client fields on an Anthropic provider: mapped, or refused naming the field (the official SDK, a fake Anthropic). */
describe('gateway OpenAI fields on anthropic', () => {
  const anthropic = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  let platform: TestPlatform;
  let client: OpenAI;
  const model = 'anthropic/claude-3-5-haiku-latest';
  const messagesCalls = () => anthropic.requests.filter((r) => r.path === '/v1/messages');

  beforeAll(async () => {
    const url = await anthropic.start();
    platform = await startPlatform({
      apps: ['gateway'],
      env: { ANTHROPIC_API_KEY: 'sk-ant-upstream', ANTHROPIC_BASE_URL: url.replace(/\/v1$/, '') },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await anthropic.close();
  });
  beforeEach(() => anthropic.reset());

  it('legacy completions: logprobs is refused at any value, 0 included (it asks for the sampled tokens)', async () => {
    for (const logprobs of [0, 1, 5]) {
      const error = await client.completions
        .create({ model, prompt: 'Say hi', max_tokens: 20, logprobs })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('logprobs');
    }
    expect(messagesCalls()).toHaveLength(0);
    const res = await client.completions.create({ model, prompt: 'Say hi', max_tokens: 20, best_of: 1, suffix: '' });
    expect(res.choices[0].text).toContain('Say hi');
  });
});
