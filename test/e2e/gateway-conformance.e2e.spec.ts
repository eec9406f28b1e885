import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOllamaServer, FakeOpenAIServer } from '@app/testing';
import { CONFORMANCE_FILE, ConformanceMatrix } from '../support/conformance-matrix';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const PROVIDERS = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-3-5-haiku-latest',
  ollama: 'ollama/llama3:8b',
  mock: 'mock/echo-1',
};
type ProviderName = keyof typeof PROVIDERS;
const FEATURES = [
  'text',
  'stream',
  'tools',
  'stream + tools',
  'json_schema',
  'usage (cached tokens)',
  'thinking + tools',
];
const THINKING_ELSEWHERE =
  "Extended thinking is Anthropic's: other providers' reasoning has no signed thinking blocks to give (on " +
  '/v1/messages their reasoning text, `reasoning_content` or `reasoning`, arrives as a thinking block with an ' +
  'empty signature), and thinking blocks in /v1/messages history are left out for them, or go back as ' +
  'their text where a provider names the field for it (`options.reasoningHistory`: DeepSeek).';
const INBOUND = [
  'Chat Completions (/v1/chat/completions)',
  'Legacy completions (/v1/completions)',
  'Anthropic Messages (/v1/messages)',
];
const [CHAT, LEGACY, MESSAGES] = INBOUND;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const personSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name', 'age'],
  additionalProperties: false,
};
const longContext = 'You are a meticulous assistant. '.repeat(20);

const matrix = new ConformanceMatrix(INBOUND, Object.keys(PROVIDERS), FEATURES);

describe('gateway conformance: official SDKs x providers x features', () => {
  // OpenAI caches a repeated long prompt by itself: the Messages API's caching marks do not reach it.
  const openaiFake = new FakeOpenAIServer({ apiKey: 'sk-upstream-openai', cachesPrefixes: true });
  const anthropicFake = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  const ollamaFake = new FakeOllamaServer({ models: ['llama3:8b'] });
  let platform: TestPlatform;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    const [openaiUrl, anthropicUrl] = await Promise.all([openaiFake.start(), anthropicFake.start()]);
    await ollamaFake.start();
    platform = await startPlatform({
      apps: ['gateway'],
      env: {
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OLLAMA_HOST: ollamaFake.origin,
      },
    });
    openai = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    matrix.set(LEGACY, '*', '*', { status: 'n/a' });
    for (const provider of Object.keys(PROVIDERS)) {
      for (const feature of ['tools', 'stream + tools', 'json_schema']) {
        matrix.set(LEGACY, provider, feature, {
          status: 'n/a',
          note: `Legacy completions have no ${feature.includes('tools') ? 'tools' : 'response_format'} parameter in OpenAI's API.`,
        });
      }
    }
    for (const provider of Object.keys(PROVIDERS)) {
      matrix.set(LEGACY, provider, 'thinking + tools', {
        status: 'n/a',
        note: "Legacy completions have no tools parameter in OpenAI's API.",
      });
      if (provider === 'anthropic') continue;
      for (const inbound of [CHAT, MESSAGES]) {
        matrix.set(inbound, provider, 'thinking + tools', { status: 'n/a', note: THINKING_ELSEWHERE });
      }
    }
    for (const inbound of [CHAT, MESSAGES]) {
      matrix.set(inbound, 'mock', 'usage (cached tokens)', {
        status: 'pass',
        note: 'The built-in mock provider has no prompt cache: usage is reported, cached tokens are 0.',
      });
    }
    matrix.write(
      CONFORMANCE_FILE,
      [
        '# Conformance matrix',
        '',
        'Written by `test/e2e/gateway-conformance.e2e.spec.ts` on every test run: the official `openai` and',
        '`@anthropic-ai/sdk` clients call the gateway, which calls fake upstream servers that speak each',
        "provider's real wire protocol (JSON and SSE). ✅ passed, ❌ failed, n/a does not exist in that API.",
        '',
        'Which OpenAI request fields each provider maps, refuses (a 400 naming the field) or leaves out, and how',
        "answers and streams are brought to OpenAI's shape: README, [OpenAI request fields on other",
        'providers](../README.md#openai-request-fields-on-other-providers).',
      ].join('\n'),
    );
    await platform?.close();
    await Promise.all([openaiFake.close(), anthropicFake.close(), ollamaFake.close()]);
  });

  describe.each(Object.entries(PROVIDERS) as Array<[ProviderName, string]>)('%s', (provider, model) => {
    it('chat: text', () =>
      matrix.record(CHAT, provider, 'text', async () => {
        const res = await openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Hello there' }],
        });
        expect(res.object).toBe('chat.completion');
        expect(res.choices[0].message.content).toContain('Hello there');
        expect(res.choices[0].finish_reason).toBe('stop');
        expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
      }));

    it('chat: stream', () =>
      matrix.record(CHAT, provider, 'stream', async () => {
        const stream = await openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Stream this please' }],
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = '';
        const usages: (OpenAI.CompletionUsage | null | undefined)[] = [];
        let finish: string | null = null;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta?.content ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
          usages.push(chunk.usage);
        }
        expect(text).toContain('Stream this please');
        expect(finish).toBe('stop');
        // As OpenAI's, whatever the provider: `usage: null` on every chunk but the usage-only last one.
        const usage = usages.pop();
        expect(new Set(usages)).toEqual(new Set([null]));
        expect(usage?.completion_tokens).toBeGreaterThan(0);
      }));

    it('chat: tools', () =>
      matrix.record(CHAT, provider, 'tools', async () => {
        const res = await openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Please call tool get_weather for Paris' }],
          tools: [weatherTool],
        });
        const call = res.choices[0].message.tool_calls?.[0];
        expect(res.choices[0].finish_reason).toBe('tool_calls');
        expect(call?.type === 'function' && call.function.name).toBe('get_weather');
        expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '{}')).toHaveProperty('city');
      }));

    it('chat: stream + tools', () =>
      matrix.record(CHAT, provider, 'stream + tools', async () => {
        const runner = openai.chat.completions.stream({
          model,
          messages: [{ role: 'user', content: 'Please call tool get_weather for Rome' }],
          tools: [weatherTool],
        });
        const final = await runner.finalChatCompletion();
        const call = final.choices[0].message.tool_calls?.[0];
        expect(call?.type === 'function' && call.function.name).toBe('get_weather');
        expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '{}')).toHaveProperty('city');
      }));

    it('chat: json_schema', () =>
      matrix.record(CHAT, provider, 'json_schema', async () => {
        const res = await openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Describe a person' }],
          response_format: { type: 'json_schema', json_schema: { name: 'person', schema: personSchema, strict: true } },
        });
        const person = JSON.parse(res.choices[0].message.content ?? '') as { name: unknown; age: unknown };
        expect(typeof person.name).toBe('string');
        expect(Number.isInteger(person.age)).toBe(true);
      }));

    it('chat: usage with cached tokens', () =>
      matrix.record(CHAT, provider, 'usage (cached tokens)', async () => {
        const ask = () =>
          openai.chat.completions.create({
            model,
            // `cache_control` on a content part: the prompt-caching extension LiteLLM and OpenRouter accept.
            messages: [
              { role: 'system', content: [{ type: 'text', text: longContext, cache_control: { type: 'ephemeral' } }] },
              { role: 'user', content: 'Cache me' },
            ],
          } as OpenAI.ChatCompletionCreateParamsNonStreaming);
        await ask();
        const res = await ask();
        expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
        if (provider === 'mock') return expect(res.usage!.prompt_tokens_details?.cached_tokens ?? 0).toBe(0);
        expect(res.usage!.prompt_tokens_details?.cached_tokens ?? 0).toBeGreaterThan(0);
      }));

    it('legacy completions: text and stream', async () => {
      await matrix.record(LEGACY, provider, 'text', async () => {
        const res = await openai.completions.create({ model, prompt: 'Say hi', max_tokens: 50 });
        expect(res.object).toBe('text_completion');
        expect(res.choices[0].text).toContain('Say hi');
      });
      await matrix.record(LEGACY, provider, 'stream', async () => {
        const stream = await openai.completions.create({ model, prompt: 'Stream hi', stream: true, max_tokens: 50 });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
        expect(text).toContain('Stream hi');
      });
      await matrix.record(LEGACY, provider, 'usage (cached tokens)', async () => {
        const res = await openai.completions.create({ model, prompt: 'Count me', max_tokens: 50 });
        expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
        expect(res.usage!.completion_tokens).toBeGreaterThan(0);
      });
    });

    it('anthropic messages: text, stream, tools, stream + tools, usage', async () => {
      await matrix.record(MESSAGES, provider, 'text', async () => {
        const msg = await anthropic.messages.create({
          model,
          max_tokens: 256,
          messages: [{ role: 'user', content: 'Hi Claude' }],
        });
        expect(msg.type).toBe('message');
        expect(msg.content[0].type === 'text' && msg.content[0].text).toContain('Hi Claude');
        expect(msg.stop_reason).toBe('end_turn');
      });
      await matrix.record(MESSAGES, provider, 'stream', async () => {
        const final = await anthropic.messages
          .stream({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Stream Claude' }] })
          .finalMessage();
        expect(final.content[0].type === 'text' && final.content[0].text).toContain('Stream Claude');
        expect(final.usage.output_tokens).toBeGreaterThan(0);
      });
      const tools = [{ name: 'get_weather', description: 'Weather', input_schema: weatherTool.function.parameters }];
      await matrix.record(MESSAGES, provider, 'tools', async () => {
        const msg = await anthropic.messages.create({
          model,
          max_tokens: 256,
          tools,
          messages: [{ role: 'user', content: 'Please call tool get_weather for Oslo' }],
        });
        const use = msg.content.find((b) => b.type === 'tool_use');
        expect(msg.stop_reason).toBe('tool_use');
        expect(use?.type === 'tool_use' && use.name).toBe('get_weather');
      });
      await matrix.record(MESSAGES, provider, 'stream + tools', async () => {
        const final = await anthropic.messages
          .stream({
            model,
            max_tokens: 256,
            tools,
            messages: [{ role: 'user', content: 'Please call tool get_weather for Bern' }],
          })
          .finalMessage();
        const use = final.content.find((b) => b.type === 'tool_use');
        expect(use?.type === 'tool_use' && (use.input as { city?: string }).city).toBeTruthy();
      });
      await matrix.record(MESSAGES, provider, 'json_schema', async () => {
        const msg = await anthropic.messages.create({
          model,
          max_tokens: 256,
          messages: [{ role: 'user', content: 'Describe a person' }],
          output_config: { format: { type: 'json_schema', schema: personSchema } },
        });
        const text = msg.content.find((b) => b.type === 'text');
        const person = JSON.parse(text?.type === 'text' ? text.text : '') as { name: unknown; age: unknown };
        expect(typeof person.name).toBe('string');
        expect(Number.isInteger(person.age)).toBe(true);
      });
      await matrix.record(MESSAGES, provider, 'usage (cached tokens)', async () => {
        const ask = () =>
          anthropic.messages.create({
            model,
            max_tokens: 256,
            system: [{ type: 'text', text: longContext, cache_control: { type: 'ephemeral' } }],
            messages: [{ role: 'user', content: 'Cache me' }],
          });
        await ask();
        const msg = await ask();
        expect(msg.usage.input_tokens).toBeGreaterThan(0);
        if (provider === 'mock') return expect(msg.usage.cache_read_input_tokens ?? 0).toBe(0);
        expect(msg.usage.cache_read_input_tokens ?? 0).toBeGreaterThan(0);
      });
    });
  });

  it('anthropic: thinking + tools, a tool round with thinking on, both clients', async () => {
    const provider = 'anthropic';
    const model = PROVIDERS.anthropic;
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    await matrix.record(CHAT, provider, 'thinking + tools', async () => {
      const question = { role: 'user' as const, content: 'Please call tool get_weather for Oslo' };
      const params = { model, max_tokens: 2048, tools: [weatherTool], thinking };
      const res = await openai.chat.completions.create({ ...params, messages: [question] });
      const message = res.choices[0].message as OpenAI.ChatCompletionMessage & { thinking_blocks?: unknown[] };
      expect(message.thinking_blocks?.length).toBeGreaterThan(0);
      const call = message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      const next = await openai.chat.completions.create({
        ...params,
        messages: [question, message, { role: 'tool', tool_call_id: call.id, content: 'Cold' }],
      });
      expect(next.choices[0].message.content).toContain('Cold');
    });
    await matrix.record(MESSAGES, provider, 'thinking + tools', async () => {
      const tools = [{ name: 'get_weather', description: 'Weather', input_schema: weatherTool.function.parameters }];
      const question = { role: 'user' as const, content: 'Please call tool get_weather for Oslo' };
      const params = { model, max_tokens: 2048, tools, thinking };
      const turn = await anthropic.messages.stream({ ...params, messages: [question] }).finalMessage();
      expect(turn.content[0].type).toBe('thinking');
      const use = turn.content.find((b) => b.type === 'tool_use');
      const result = { type: 'tool_result' as const, tool_use_id: use?.type === 'tool_use' ? use.id : '' };
      const next = await anthropic.messages.create({
        ...params,
        messages: [
          question,
          { role: 'assistant', content: turn.content },
          { role: 'user', content: [{ ...result, content: 'Cold' }] },
        ],
      });
      expect(next.content.find((b) => b.type === 'text')).toMatchObject({ text: expect.stringContaining('Cold') });
    });
  });
});
