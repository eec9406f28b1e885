import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer, type RecordedRequest } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { usageRecord } from '../support/tenancy';

const OPENAI_KEY = 'sk-upstream-openai-usage-estimate';
const model = 'openai/gpt-4o-mini';
/** 400 characters: ~100 tokens by the gateway's estimate (4 characters a token). */
const prompt = 'abcd'.repeat(100);
/** 40 characters of answer: ~10 tokens. */
const answer = 'efgh'.repeat(10);

/** Generations only: the gateway's model discovery asks the fake too. */
const isPost = (request: RecordedRequest) => request.method === 'POST';

/** A chat answer from a server that reports no usage, as some OpenAI-compatible servers do. */
const chatWithoutUsage = {
  match: isPost,
  status: 200,
  body: {
    id: 'chatcmpl-no-usage',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
  },
};

/**
 * An answer whose upstream reports no usage (none, or nothing counted) is recorded
 * with the gateway's estimate, as a stream cut short is: never as free, whatever the
 * inbound format, JSON or streamed.
 */
describe('gateway usage of answers without usage', () => {
  const openai = new FakeOpenAIServer({ apiKey: OPENAI_KEY });
  let platform: TestPlatform;
  let sdk: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    await openai.start();
    platform = await startPlatform({ env: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.baseURL } });
    sdk = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await openai.close();
  });

  const headers = (requestId: string) => ({ headers: { 'x-request-id': requestId } });

  it('chat completions: a JSON answer without usage is recorded with the estimate, which the client is told', async () => {
    openai.enqueue(chatWithoutUsage);
    const res = await sdk.chat.completions.create(
      { model, messages: [{ role: 'user', content: prompt }] },
      headers('estimate-chat-json'),
    );
    expect(res.choices[0].message.content).toBe(answer);
    const record = await usageRecord(platform, 'estimate-chat-json');
    expect(record.promptTokens).toBeGreaterThanOrEqual(100);
    expect(record.promptTokens).toBeLessThan(110);
    expect(record.completionTokens).toBe(10);
    expect(Number(record.costUsd)).toBeGreaterThan(0);
    // OpenAI always answers with usage: the client is told what it is charged, not nothing.
    expect(res.usage).toEqual({
      prompt_tokens: record.promptTokens,
      completion_tokens: 10,
      total_tokens: record.promptTokens + 10,
    });
  });

  it('chat completions: a stream whose usage counts nothing is recorded with the estimate', async () => {
    openai.enqueue({ match: isPost, text: answer, usage: { prompt_tokens: 0, completion_tokens: 0 } });
    const stream = await sdk.chat.completions.create(
      { model, messages: [{ role: 'user', content: prompt }], stream: true },
      headers('estimate-chat-stream'),
    );
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(answer);
    const record = await usageRecord(platform, 'estimate-chat-stream');
    expect(record.promptTokens).toBeGreaterThanOrEqual(100);
    expect(record.completionTokens).toBe(10);
  });

  it('chat completions: a client asking for usage of a stream the upstream gave none for gets the estimate last', async () => {
    // One event without usage (the whole stream of some servers: no usage chunk, no [DONE]).
    const event = {
      id: 'chatcmpl-no-usage',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
    };
    openai.enqueue({ match: isPost, garbage: JSON.stringify(event) });
    const stream = await sdk.chat.completions.create(
      { model, messages: [{ role: 'user', content: prompt }], stream: true, stream_options: { include_usage: true } },
      headers('estimate-chat-stream-usage'),
    );
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null).join('')).toBe(answer);
    const last = chunks.at(-1)!;
    expect(last).toMatchObject({ id: 'chatcmpl-no-usage', choices: [], usage: { completion_tokens: 10 } });
    const record = await usageRecord(platform, 'estimate-chat-stream-usage');
    expect(record).toMatchObject({
      promptTokens: last.usage!.prompt_tokens,
      completionTokens: last.usage!.completion_tokens,
    });
  });

  it('legacy completions: an answer without usage is recorded with the estimate', async () => {
    openai.enqueue({
      match: isPost,
      status: 200,
      body: {
        id: 'cmpl-no-usage',
        object: 'text_completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, text: answer, logprobs: null, finish_reason: 'stop' }],
      },
    });
    const res = await sdk.completions.create({ model, prompt }, headers('estimate-legacy'));
    const record = await usageRecord(platform, 'estimate-legacy');
    expect(record).toMatchObject({ promptTokens: 100, completionTokens: 10 });
    expect(res.usage).toEqual({ prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 });
  });

  it('messages, translated: an answer without usage is recorded with the estimate, which the client is told', async () => {
    openai.enqueue(chatWithoutUsage);
    const message = await anthropic.messages.create(
      { model, max_tokens: 100, messages: [{ role: 'user', content: prompt }] },
      headers('estimate-messages'),
    );
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: answer })]);
    const record = await usageRecord(platform, 'estimate-messages');
    expect(record.promptTokens).toBeGreaterThanOrEqual(100);
    expect(record.completionTokens).toBe(10);
    // Anthropic's format always has usage: the estimate, not 0 and 0.
    expect(message.usage).toMatchObject({ input_tokens: record.promptTokens, output_tokens: 10 });
  });

  it('messages, translated and streamed: without upstream usage, the client is told the estimate recorded', async () => {
    openai.enqueue({ match: isPost, text: answer, usage: { prompt_tokens: 0, completion_tokens: 0 } });
    const stream = anthropic.messages.stream(
      { model, max_tokens: 100, messages: [{ role: 'user', content: prompt }] },
      headers('estimate-messages-stream'),
    );
    const started: number[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_start') started.push(event.message.usage.input_tokens);
    });
    const message = await stream.finalMessage();
    const record = await usageRecord(platform, 'estimate-messages-stream');
    expect(record.completionTokens).toBe(10);
    // message_start reports the prompt as estimated (Anthropic's reports its count there), the end the output.
    expect(started).toEqual([record.promptTokens]);
    expect(message.usage).toMatchObject({ input_tokens: record.promptTokens, output_tokens: 10 });
  });

  it('an answer with usage is recorded as reported', async () => {
    openai.enqueue({ match: isPost, text: answer, usage: { prompt_tokens: 7, completion_tokens: 3 } });
    await sdk.chat.completions.create(
      { model, messages: [{ role: 'user', content: prompt }] },
      headers('estimate-reported'),
    );
    expect(await usageRecord(platform, 'estimate-reported')).toMatchObject({ promptTokens: 7, completionTokens: 3 });
  });
});
