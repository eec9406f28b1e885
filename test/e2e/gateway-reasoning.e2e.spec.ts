import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOllamaServer, FakeOpenAIServer, type RecordedRequest } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi } from '../support/tenancy';

const isChat = (request: RecordedRequest) => request.method === 'POST' && request.path.endsWith('/chat/completions');
const thought = 'The user greets me. A greeting back is polite.';

/**
 * The reasoning of OpenAI-shaped reasoning models (DeepSeek's `reasoning_content`,
 * Ollama's `reasoning`) through the gateway, with the official clients: a thinking
 * block for Anthropic SDK clients on /v1/messages, the field as it came for chat clients.
 */
describe('gateway reasoning of OpenAI-shaped providers', () => {
  const deepseek = new FakeOpenAIServer({ apiKey: 'sk-deepseek', models: ['deepseek-reasoner'] });
  const ollama = new FakeOllamaServer({ models: ['qwen3:8b'] });
  // Checks the signatures of thinking blocks sent back, as Anthropic does.
  const anthropicFake = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  // DeepSeek's thinking mode: a tool round sent back without its reasoning_content is a 400.
  const thinkingDeepseek = new FakeOpenAIServer({
    apiKey: 'sk-deepseek',
    models: ['deepseek-v4-pro'],
    requireReasoningBack: 'reasoning_content',
  });
  let platform: TestPlatform;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    const [anthropicUrl] = await Promise.all([
      anthropicFake.start(),
      deepseek.start(),
      ollama.start(),
      thinkingDeepseek.start(),
    ]);
    platform = await startPlatform({
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OLLAMA_HOST: ollama.origin,
      },
    });
    const created = await adminApi(platform).post('/api/providers', {
      name: 'deepseek',
      kind: 'openai-compatible',
      baseUrl: deepseek.baseURL,
      apiKey: 'sk-deepseek',
    });
    expect(created.status).toBe(201);
    for (const [name, options] of [
      ['ds-think', { reasoningHistory: 'reasoning_content' }],
      ['ds-plain', {}],
    ]) {
      const provider = { name, kind: 'openai-compatible', baseUrl: thinkingDeepseek.baseURL, apiKey: 'sk-deepseek' };
      expect((await adminApi(platform).post('/api/providers', { ...provider, options })).status).toBe(201);
    }
    anthropic = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([anthropicFake.close(), deepseek.close(), ollama.close(), thinkingDeepseek.close()]);
  });
  beforeEach(() => {
    for (const fake of [anthropicFake, deepseek, ollama, thinkingDeepseek]) fake.reset();
  });

  describe('Anthropic SDK on /v1/messages', () => {
    const ask = {
      model: 'deepseek/deepseek-reasoner',
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'Hello' }],
    };

    it("gets DeepSeek's reasoning_content as a thinking block before the text", async () => {
      deepseek.enqueue({ match: isChat, reasoning: { text: thought } });
      const message = await anthropic.messages.create(ask);
      expect(message.content).toEqual([
        { type: 'thinking', thinking: thought, signature: '' },
        { type: 'text', text: 'Echo: Hello', citations: null },
      ]);
      expect(message.stop_reason).toBe('end_turn');
    });

    it.each([
      ['reasoning_content from DeepSeek', 'deepseek/deepseek-reasoner', deepseek, 'reasoning_content' as const],
      ['reasoning from Ollama', 'ollama/qwen3:8b', ollama, 'reasoning' as const],
    ])('streams %s as a thinking block closed before the text block opens', async (_name, model, fake, field) => {
      fake.enqueue({ match: isChat, reasoning: { text: thought, field } });
      const stream = anthropic.messages.stream({ ...ask, model });
      const seen: string[] = [];
      const starts: unknown[] = [];
      stream.on('streamEvent', (event) => {
        if (event.type === 'content_block_start') {
          seen.push(`start ${event.index} ${event.content_block.type}`);
          starts.push(event.content_block);
        }
        if (event.type === 'content_block_delta') seen.push(`delta ${event.index} ${event.delta.type}`);
        if (event.type === 'content_block_stop') seen.push(`stop ${event.index}`);
      });
      const message = await stream.finalMessage();
      expect([...new Set(seen)]).toEqual([
        'start 0 thinking',
        'delta 0 thinking_delta',
        'stop 0',
        'start 1 text',
        'delta 1 text_delta',
        'stop 1',
      ]);
      expect(starts[0]).toEqual({ type: 'thinking', thinking: '', signature: '' });
      expect(message.content).toEqual([
        { type: 'thinking', thinking: thought, signature: '' },
        { type: 'text', text: 'Echo: Hello', citations: null },
      ]);
    });

    it('takes the thinking block back in history: left out for the OpenAI-compatible server and for Anthropic', async () => {
      deepseek.enqueue({ match: isChat, reasoning: { text: thought } });
      const turn = await anthropic.messages.create(ask);
      const history: Anthropic.MessageParam[] = [
        ...ask.messages,
        { role: 'assistant', content: turn.content },
        { role: 'user', content: 'How are you?' },
      ];

      const next = await anthropic.messages.create({ ...ask, messages: history });
      expect(next.content).toEqual([{ type: 'text', text: 'Echo: How are you?', citations: null }]);
      const sent = deepseek.requests.filter(isChat).at(-1);
      const messages = (sent?.body as { messages: Array<Record<string, unknown>> }).messages;
      expect(messages[1]).toEqual({ role: 'assistant', content: 'Echo: Hello' });
      expect(sent?.rawBody).not.toContain(thought);

      // Anthropic would refuse a thinking block whose signature it cannot verify.
      const claude = await anthropic.messages.create({
        ...ask,
        model: 'anthropic/claude-sonnet-4-20250514',
        messages: history,
      });
      expect(claude.content).toEqual([expect.objectContaining({ type: 'text' })]);
      const toAnthropic = anthropicFake.requests.filter((r) => r.path === '/v1/messages').at(-1);
      const assistant = (toAnthropic?.body as { messages: Anthropic.MessageParam[] }).messages[1];
      // The rest of the turn as the client sent it (Anthropic is called natively).
      expect(assistant).toEqual({
        role: 'assistant',
        content: [{ type: 'text', text: 'Echo: Hello', citations: null }],
      });
    });
  });

  describe("Anthropic SDK tool loops on DeepSeek's thinking mode", () => {
    const weather: Anthropic.Tool = {
      name: 'get_weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    };
    const ask = (model: string, messages: Anthropic.MessageParam[]) =>
      anthropic.messages.create({ model, max_tokens: 256, tools: [weather], messages });

    it('sends each tool round back with its reasoning_content, where the provider names that field', async () => {
      thinkingDeepseek.enqueue({ match: isChat, reasoning: { text: thought } });
      const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
      const turn = await anthropic.messages.create({
        model: 'ds-think/deepseek-v4-pro',
        max_tokens: 256,
        tools: [weather],
        tool_choice: { type: 'any' },
        messages: [question],
      });
      expect(turn.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
      const call = turn.content[1] as Anthropic.ToolUseBlock;
      const result: Anthropic.MessageParam = {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 21°C' }],
      };
      const history = [question, { role: 'assistant' as const, content: turn.content }, result];

      const next = await ask('ds-think/deepseek-v4-pro', history);
      expect(next.content).toEqual([{ type: 'text', text: 'Tool result: Sunny, 21°C', citations: null }]);
      const sent = (thinkingDeepseek.requests.filter(isChat).at(-1)?.body as { messages: unknown[] }).messages;
      expect(sent[1]).toMatchObject({ role: 'assistant', reasoning_content: thought, tool_calls: [{ id: call.id }] });
      expect(sent[1]).not.toHaveProperty('thinking_blocks');

      // A client that dropped the thinking block: the tool round goes back with an empty reasoning_content.
      const withoutThinking = [question, { role: 'assistant' as const, content: [call] }, result];
      expect((await ask('ds-think/deepseek-v4-pro', withoutThinking)).content[0]).toMatchObject({ type: 'text' });
      const resent = (thinkingDeepseek.requests.filter(isChat).at(-1)?.body as { messages: unknown[] }).messages;
      expect(resent[1]).toMatchObject({ role: 'assistant', reasoning_content: '' });

      // Without the option, the tool round goes back without it, and DeepSeek refuses it.
      const refused = await ask('ds-plain/deepseek-v4-pro', history).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
      expect((refused as Error).message).toContain('The reasoning_content in the thinking mode must be passed back');
    });
  });

  describe('OpenAI SDK on /v1/chat/completions', () => {
    type Reasoning = { reasoning?: string; reasoning_content?: string };
    const params = { model: 'ollama/qwen3:8b', messages: [{ role: 'user' as const, content: 'Hello' }] };

    it("passes Ollama's reasoning field on as it came, in JSON and in the stream", async () => {
      ollama.enqueue({ match: isChat, reasoning: { text: thought, field: 'reasoning' }, times: 2 });
      const res = await openai.chat.completions.create(params);
      const message = res.choices[0].message as OpenAI.ChatCompletionMessage & Reasoning;
      expect(message.reasoning).toBe(thought);
      expect(message).not.toHaveProperty('reasoning_content');
      expect(message.content).toBe('Echo: Hello');

      const stream = await openai.chat.completions.create({ ...params, stream: true });
      let reasoning = '';
      let content = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & Reasoning) | undefined;
        expect(delta ?? {}).not.toHaveProperty('reasoning_content');
        reasoning += delta?.reasoning ?? '';
        content += delta?.content ?? '';
      }
      expect(reasoning).toBe(thought);
      expect(content).toBe('Echo: Hello');
    });
  });
});
