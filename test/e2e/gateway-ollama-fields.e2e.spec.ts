import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOllamaServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

/** What reached the fake Ollama's chat endpoint. */
const chatBodies = (fake: FakeOllamaServer) =>
  fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as Record<string, unknown>);

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const timeTool = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object' } } };

/**
 * Fields of a current OpenAI client that Ollama's OpenAI layer accepts and then
 * ignores: through the gateway they take effect, or are refused (the official SDK
 * as the client, a fake Ollama that records what it received).
 */
describe('gateway chat fields on ollama', () => {
  const ollama = new FakeOllamaServer({ models: ['llama3:8b'] });
  let platform: TestPlatform;
  let client: OpenAI;
  const model = 'ollama/llama3:8b';
  const user = [{ role: 'user' as const, content: 'Hello there' }];

  beforeAll(async () => {
    await ollama.start();
    platform = await startPlatform({ apps: ['gateway'], env: { OLLAMA_HOST: ollama.origin } });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await ollama.close();
  });
  beforeEach(() => ollama.reset());

  it('max_completion_tokens reaches Ollama as max_tokens, the only limit it reads (JSON and stream)', async () => {
    await client.chat.completions.create({ model, messages: user, max_completion_tokens: 7 });
    await client.chat.completions.stream({ model, messages: user, max_completion_tokens: 9 }).finalChatCompletion();
    await client.chat.completions.create({ model, messages: user, max_tokens: 50, max_completion_tokens: 11 });
    const bodies = chatBodies(ollama);
    expect(bodies.map((body) => body['max_tokens'])).toEqual([7, 9, 11]);
    expect(bodies.every((body) => !('max_completion_tokens' in body))).toBe(true);
  });

  it('developer messages reach Ollama as system messages (chat templates leave unknown roles out)', async () => {
    await client.chat.completions.create({
      model,
      messages: [{ role: 'developer', content: 'Answer in French.' }, ...user],
    });
    expect(chatBodies(ollama)[0]['messages']).toEqual([{ role: 'system', content: 'Answer in French.' }, ...user]);
  });

  it('n > 1 is a 400 naming n, on chat and legacy completions: Ollama would answer with one choice', async () => {
    const error = await client.chat.completions.create({ model, messages: user, n: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    const legacy = await client.completions.create({ model, prompt: 'Say hi', n: 2 }).catch((e: unknown) => e);
    expect((legacy as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    expect(ollama.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('tool_choice none offers no tools; a named function offers only that one (Ollama ignores tool_choice)', async () => {
    const none = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Please call tool get_weather for Paris' }],
      tools: [weatherTool, timeTool],
      tool_choice: 'none',
    });
    expect(none.choices[0].message.tool_calls ?? []).toEqual([]);
    await client.chat.completions.create({
      model,
      messages: user,
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    const [noneBody, namedBody] = chatBodies(ollama);
    expect(noneBody).not.toHaveProperty('tools');
    expect(noneBody).not.toHaveProperty('tool_choice');
    expect((namedBody['tools'] as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual([
      'get_time',
    ]);
  });

  it('allowed_tools offers only the tools it lists, with its mode as tool_choice (Ollama ignores allowed_tools)', async () => {
    const answer = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Please call tool get_weather for Paris' }],
      tools: [weatherTool, timeTool],
      tool_choice: {
        type: 'allowed_tools',
        allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_time' } }] },
      },
    });
    const calls = answer.choices[0].message.tool_calls ?? [];
    expect(calls.map((call) => (call.type === 'function' ? call.function.name : call.type))).not.toContain(
      'get_weather',
    );
    const [body] = chatBodies(ollama);
    expect((body['tools'] as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual(['get_time']);
    expect(body['tool_choice']).toBe('auto');
  });

  it('a request that needs no fitting reaches Ollama as sent', async () => {
    await client.chat.completions.create({ model, messages: user, max_tokens: 5, tools: [weatherTool] });
    expect(chatBodies(ollama)[0]).toMatchObject({ messages: user, max_tokens: 5, tools: [weatherTool] });
    expect(chatBodies(ollama)[0]).not.toHaveProperty('tool_choice');
  });

  it('legacy completions: echo puts the prompt before the text, in JSON and streams (Ollama ignores echo)', async () => {
    const prompt = 'Once upon a time';
    const json = await client.completions.create({ model, prompt, echo: true, max_tokens: 50 });
    expect(json.choices[0].text).toBe(`${prompt}Echo: ${prompt}`);
    const stream = await client.completions.create({ model, prompt, echo: true, max_tokens: 50, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(json.choices[0].text);
    // Asked of Ollama without it: should a version echo one day, the prompt is not doubled.
    const sent = ollama.requests.filter((r) => r.path === '/v1/completions').map((r) => r.body as object);
    expect(sent).toHaveLength(2);
    for (const body of sent) expect(body).not.toHaveProperty('echo');
    const plain = await client.completions.create({ model, prompt, echo: false, suffix: ' The end.' });
    expect(plain.choices[0].text).toBe(`Echo: ${prompt}`);
  });

  it.each<[string, Record<string, unknown>]>([
    ['best_of', { best_of: 3 }],
    ['logprobs', { logprobs: 2 }],
    ['logprobs', { logprobs: 0 }],
  ])('legacy completions: %s is a 400 naming it, which Ollama would ignore (%j)', async (param, fields) => {
    for (const stream of [false, true]) {
      const error = await client.completions
        .create({ model, prompt: 'Say hi', stream, ...fields } as OpenAI.CompletionCreateParamsNonStreaming)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
    }
    expect(ollama.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    // What asks for nothing passes: best_of 1, logprobs null.
    await client.completions.create({ model, prompt: 'Say hi', best_of: 1, logprobs: null });
  });
});
