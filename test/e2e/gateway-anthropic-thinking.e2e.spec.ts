import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/**
 * Extended thinking through the gateway, with the official clients and a fake
 * Anthropic that thinks (a signed thinking block and a redacted one before its
 * answer) and, as Anthropic does, refuses a tool round whose assistant turn lost
 * its thinking or whose thinking was changed.
 */
describe('gateway extended thinking on anthropic', () => {
  const anthropicFake = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  const openaiFake = new FakeOpenAIServer({ apiKey: 'sk-upstream-openai', strictArguments: true });
  let platform: TestPlatform;
  let anthropic: Anthropic;
  let openai: OpenAI;
  const model = 'anthropic/claude-sonnet-4-20250514';
  const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
  const tools: Anthropic.Tool[] = [
    {
      name: 'get_weather',
      description: 'Weather for a city',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ];
  const upstreamBodies = () =>
    anthropicFake.requests.filter((r) => r.path === '/v1/messages').map((r) => r.body as Record<string, unknown>);

  beforeAll(async () => {
    const [anthropicUrl, openaiUrl] = await Promise.all([anthropicFake.start(), openaiFake.start()]);
    platform = await startPlatform({
      apps: ['gateway'],
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
      },
    });
    anthropic = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([anthropicFake.close(), openaiFake.close()]);
  });
  beforeEach(() => {
    anthropicFake.reset();
    openaiFake.reset();
  });

  /** The conversation of one tool round: the question, the assistant turn as the client keeps it, the result. */
  function toolRound(turn: Anthropic.ContentBlock[]): Anthropic.MessageParam[] {
    const use = turn.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    return [
      { role: 'user', content: 'Please call tool for Paris' },
      { role: 'assistant', content: turn },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use?.id ?? '', content: 'Sunny, 21°C' }] },
    ];
  }

  describe('Anthropic SDK on /v1/messages', () => {
    const ask = { model, max_tokens: 2048, thinking, tools };

    it('gets thinking and redacted_thinking blocks back, and its tool round with them reaches Anthropic unchanged', async () => {
      const turn = await anthropic.messages.create({
        ...ask,
        messages: [{ role: 'user', content: 'Please call tool for Paris' }],
      });
      expect(turn.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text', 'tool_use']);
      expect(turn.content[0]).toEqual({
        type: 'thinking',
        thinking: expect.stringContaining('Please call tool for Paris'),
        signature: expect.stringMatching(/.{20,}/),
      });
      expect(turn.stop_reason).toBe('tool_use');

      const next = await anthropic.messages.create({ ...ask, messages: toolRound(turn.content) });
      expect(next.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text']);
      const sent = upstreamBodies()[1].messages as Anthropic.MessageParam[];
      // The fake checked the signature and the data; here: the same blocks, in their place before tool_use.
      expect((sent[1].content as Anthropic.ContentBlockParam[]).slice(0, 2)).toEqual(turn.content.slice(0, 2));
      expect((sent[1].content as Anthropic.ContentBlockParam[]).map((block) => block.type)).toEqual([
        'thinking',
        'redacted_thinking',
        'text',
        'tool_use',
      ]);
      expect(upstreamBodies()[1].thinking).toEqual(thinking);
    });

    it('streams thinking_delta and signature_delta in the thinking block, each block at its own index', async () => {
      const stream = anthropic.messages.stream({
        ...ask,
        messages: [{ role: 'user', content: 'Please call tool for Paris' }],
      });
      const seen: string[] = [];
      stream.on('streamEvent', (event) => {
        if (event.type === 'content_block_start') seen.push(`start ${event.index} ${event.content_block.type}`);
        if (event.type === 'content_block_delta') seen.push(`delta ${event.index} ${event.delta.type}`);
      });
      const turn = await stream.finalMessage();
      expect([...new Set(seen)]).toEqual([
        'start 0 thinking',
        'delta 0 thinking_delta',
        'delta 0 signature_delta',
        'start 1 redacted_thinking',
        'start 2 text',
        'delta 2 text_delta',
        'start 3 tool_use',
        'delta 3 input_json_delta',
      ]);
      expect(turn.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text', 'tool_use']);

      // The blocks as the SDK assembled them from the stream pass Anthropic's signature check.
      const next = await anthropic.messages.stream({ ...ask, messages: toolRound(turn.content) }).finalMessage();
      expect(next.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text']);
      expect(next.content[2]).toMatchObject({ text: 'Tool result: Sunny, 21°C' });
    });

    it('leaves thinking blocks in history out for other providers', async () => {
      const turn = await anthropic.messages.create({
        ...ask,
        messages: [{ role: 'user', content: 'Please call tool for Paris' }],
      });
      const res = await anthropic.messages.create({
        model: 'openai/gpt-4o-mini',
        max_tokens: 256,
        tools,
        messages: toolRound(turn.content),
      });
      expect(res.type).toBe('message');
      const [body] = openaiFake.requests.filter((r) => r.path.endsWith('/chat/completions'));
      const assistant = (body.body as { messages: Array<Record<string, unknown>> }).messages[1];
      expect(assistant).toMatchObject({ role: 'assistant', tool_calls: [expect.anything()] });
      expect(assistant).not.toHaveProperty('thinking_blocks');
      expect(body.rawBody).not.toContain('redacted');
    });
  });

  describe('OpenAI SDK on /v1/chat/completions', () => {
    const openaiTools: OpenAI.ChatCompletionTool[] = tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        description: tool.description,
        parameters: tool.input_schema,
      },
    }));
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Please call tool for Paris' };
    // LiteLLM's fields, which the OpenAI SDK's types do not know.
    type Reasoning = { reasoning_content?: string; thinking_blocks?: Array<Record<string, string>> };
    const params = { model, max_tokens: 2048, tools: openaiTools, thinking } as const;

    it('gets reasoning_content and thinking_blocks, and sends them back for the tool round', async () => {
      const res = await openai.chat.completions.create({ ...params, messages: [question] });
      const message = res.choices[0].message as OpenAI.ChatCompletionMessage & Reasoning;
      expect(message.content).toBe("I'll use the get_weather tool.");
      expect(message.reasoning_content).toContain('Please call tool for Paris');
      expect(message.thinking_blocks).toEqual([
        { type: 'thinking', thinking: message.reasoning_content, signature: expect.stringMatching(/.{20,}/) },
        { type: 'redacted_thinking', data: expect.any(String) },
      ]);
      const call = message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.function.name).toBe('get_weather');

      const next = await openai.chat.completions.create({
        ...params,
        messages: [question, message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21°C' }],
      });
      expect(next.choices[0].message.content).toBe('Tool result: Sunny, 21°C');
      const sent = upstreamBodies()[1].messages as Array<{ content: Array<Record<string, unknown>> }>;
      expect(sent[1].content.slice(0, 2)).toEqual(message.thinking_blocks);
    });

    it('streams reasoning_content and the signature, which make the blocks to send back', async () => {
      const stream = await openai.chat.completions.create({ ...params, stream: true, messages: [question] });
      let reasoning = '';
      let content = '';
      const blocks: Array<Record<string, string>> = [];
      const calls: OpenAI.ChatCompletionMessageFunctionToolCall[] = [];
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & Reasoning) | undefined;
        if (!delta) continue;
        reasoning += delta.reasoning_content ?? '';
        content += delta.content ?? '';
        for (const block of delta.thinking_blocks ?? []) {
          if (block.type === 'redacted_thinking') blocks.push(block);
          else if (block.signature) blocks.push({ type: 'thinking', thinking: reasoning, signature: block.signature });
        }
        for (const call of delta.tool_calls ?? []) {
          if (call.id)
            calls.push({ id: call.id, type: 'function', function: { name: call.function!.name!, arguments: '' } });
          else calls[call.index].function.arguments += call.function?.arguments ?? '';
        }
      }
      expect(content).toBe("I'll use the get_weather tool.");
      expect(reasoning).toContain('Please call tool for Paris');
      expect(blocks.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking']);

      const assistant = { role: 'assistant', content, tool_calls: calls, thinking_blocks: blocks };
      const next = await openai.chat.completions.create({
        ...params,
        messages: [
          question,
          assistant as OpenAI.ChatCompletionAssistantMessageParam,
          { role: 'tool', tool_call_id: calls[0].id, content: 'Sunny, 21°C' },
        ],
      });
      expect(next.choices[0].message.content).toBe('Tool result: Sunny, 21°C');
    });

    it('sends the history to OpenAI without them, which refuses message fields it does not know', async () => {
      const res = await openai.chat.completions.create({ ...params, messages: [question] });
      const message = res.choices[0].message as OpenAI.ChatCompletionMessage & Reasoning;
      expect(message.thinking_blocks).toHaveLength(2);
      const call = message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      const next = await openai.chat.completions.create({
        model: 'openai/gpt-4o-mini',
        tools: openaiTools,
        messages: [question, message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21°C' }],
      });
      expect(next.choices[0].message.content).toBe('Tool result: Sunny, 21°C');
      const sent = openaiFake.requests.at(-1)?.body as { messages: Array<Record<string, unknown>> };
      expect(Object.keys(sent.messages[1]).sort()).toEqual(['content', 'refusal', 'role', 'tool_calls']);
    });

    it('without the thinking blocks the tool round is refused by Anthropic, as it would be directly', async () => {
      const res = await openai.chat.completions.create({ ...params, messages: [question] });
      const { thinking_blocks: _dropped, ...message } = res.choices[0].message as OpenAI.ChatCompletionMessage &
        Reasoning;
      const call = message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      const error = await openai.chat.completions
        .create({
          ...params,
          messages: [question, message, { role: 'tool', tool_call_id: call.id, content: 'Sunny' }],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as Error).message).toContain('a final `assistant` message must start with a thinking block');
    });
  });
});
