import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/** OpenAI client fields on an Anthropic provider: mapped, or refused naming the field (the official SDK, a fake Anthropic). */
describe('gateway OpenAI fields on anthropic', () => {
  const anthropic = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  let platform: TestPlatform;
  let client: OpenAI;
  let anthropicClient: Anthropic;
  const model = 'anthropic/claude-3-5-haiku-latest';
  const messagesCalls = () => anthropic.requests.filter((r) => r.path === '/v1/messages');

  beforeAll(async () => {
    const url = await anthropic.start();
    platform = await startPlatform({
      apps: ['gateway'],
      env: { ANTHROPIC_API_KEY: 'sk-ant-upstream', ANTHROPIC_BASE_URL: url.replace(/\/v1$/, '') },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    anthropicClient = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await anthropic.close();
  });
  beforeEach(() => anthropic.reset());

  it('legacy completions: an empty prompt, which Anthropic refuses, is a 400 naming prompt (the field the client sent)', async () => {
    for (const stream of [false, true]) {
      const error = await client.completions
        .create({ model, prompt: '', max_tokens: 20, stream })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('prompt');
    }
    expect(messagesCalls()).toHaveLength(0);
  });

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

  it('a user message of only empty text is a 400 naming its content: before Anthropic is called on chat, by Anthropic on the Messages API', async () => {
    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
    ];
    for (const content of ['', [{ type: 'text' as const, text: '' }]]) {
      const error = await client.chat.completions
        .create({ model, max_tokens: 20, messages: [...history, { role: 'user', content }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[2].content');
    }
    const refused = await anthropicClient.messages
      .create({
        model,
        max_tokens: 20,
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
          { role: 'user', content: [{ type: 'text', text: '' }] },
        ],
      })
      .catch((e: unknown) => e);
    // The Messages API's request reaches Anthropic as the client sent it: Anthropic's own 400 comes back.
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refused as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('messages.2.content.0') },
    });
    expect(messagesCalls()).toHaveLength(1);
    // Empty text beside other content is left out, as it stops nothing.
    const res = await client.chat.completions.create({
      model,
      max_tokens: 20,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'Say hi' },
          ],
        },
      ],
    });
    expect(res.choices[0].message.content).toContain('Say hi');
  });

  it('Messages API: Anthropic-only fields and the anthropic-beta header reach Anthropic as sent', async () => {
    const anthropicOnly = {
      service_tier: 'standard_only' as const,
      container: 'container_011CPR5CNjB747bTd36fQLFk',
      mcp_servers: [{ type: 'url' as const, url: 'https://mcp.example.com/sse', name: 'example' }],
      context_management: { edits: [{ type: 'clear_tool_uses_20250919' as const }] },
      inference_geo: 'us',
      speed: 'standard' as const,
      cache_control: { type: 'ephemeral' as const },
    };
    const params = {
      ...anthropicOnly,
      model,
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'Hi' }],
      // Sent as the anthropic-beta header.
      betas: ['mcp-client-2025-04-04', 'context-management-2025-06-27'],
    };
    expect((await anthropicClient.beta.messages.create(params)).type).toBe('message');
    expect((await anthropicClient.beta.messages.stream(params).finalMessage()).type).toBe('message');
    const calls = messagesCalls();
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.body).toMatchObject(anthropicOnly);
      expect(call.body).not.toHaveProperty('betas');
      expect(call.headers['anthropic-beta']).toBe('mcp-client-2025-04-04,context-management-2025-06-27');
    }
    // Without betas, no anthropic-beta header.
    await anthropicClient.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(messagesCalls()[2].headers['anthropic-beta']).toBeUndefined();
  });
});
