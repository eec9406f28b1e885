import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOllamaServer, FakeOpenAIServer, type RecordedRequest } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const isPost = (request: RecordedRequest) => request.method === 'POST';
const sqlTool = {
  type: 'custom' as const,
  custom: { name: 'run_sql', description: 'Runs one SQL query', format: { type: 'text' as const } },
};
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const history: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'How many users?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_sql_1', type: 'custom', custom: { name: 'run_sql', input: 'SELECT count(*) FROM users' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_sql_1', content: '42' },
];

/**
 * OpenAI's custom (free-form) tools, as GPT-5 clients send them: passed on to
 * OpenAI-shaped providers, with a custom call in the answer passed back; refused,
 * naming them, by the providers that have no such thing.
 */
describe('gateway custom tools', () => {
  const openai = new FakeOpenAIServer({ apiKey: 'sk-upstream-custom' });
  const ollama = new FakeOllamaServer();
  const anthropic = new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' });
  let platform: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    const [, , anthropicUrl] = await Promise.all([openai.start(), ollama.start(), anthropic.start()]);
    platform = await startPlatform({
      apps: ['gateway'],
      env: {
        OPENAI_API_KEY: 'sk-upstream-custom',
        OPENAI_BASE_URL: openai.baseURL,
        OLLAMA_HOST: ollama.origin,
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
      },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([openai.close(), ollama.close(), anthropic.close()]);
  });
  beforeEach(() => {
    openai.reset();
    ollama.reset();
    anthropic.reset();
  });

  it('reach an OpenAI provider as sent (tools, tool_choice, a custom call in the history), and its custom call comes back', async () => {
    openai.enqueue({
      match: isPost,
      status: 200,
      body: {
        id: 'chatcmpl-custom',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-5',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'call_sql_2', type: 'custom', custom: { name: 'run_sql', input: 'SELECT 1' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
      },
    });
    const tool_choice = { type: 'custom' as const, custom: { name: 'run_sql' } };
    const answer = await client.chat.completions.create({
      model: 'openai/gpt-5',
      messages: history,
      tools: [sqlTool, weatherTool],
      tool_choice,
    });
    expect(answer.choices[0].message.tool_calls).toEqual([
      { id: 'call_sql_2', type: 'custom', custom: { name: 'run_sql', input: 'SELECT 1' } },
    ]);
    expect(answer.choices[0].finish_reason).toBe('tool_calls');
    const sent = openai.requests.filter(isPost)[0].body as Record<string, unknown>;
    expect(sent['tools']).toEqual([sqlTool, weatherTool]);
    expect(sent['tool_choice']).toEqual(tool_choice);
    expect(sent['messages']).toEqual(history);
  });

  it('a tool_choice naming a custom tool missing from tools is a 400 naming tool_choice', async () => {
    const error = await client.chat.completions
      .create({
        model: 'openai/gpt-5',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [weatherTool],
        tool_choice: { type: 'custom', custom: { name: 'run_sql' } },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, param: 'tool_choice' });
    expect(openai.requests.filter(isPost)).toHaveLength(0);
  });

  it.each([
    ['anthropic', 'anthropic/claude-3-5-haiku-latest'],
    ['ollama', 'ollama/llama3.2:latest'],
    ['the mock', 'mock/echo-1'],
  ])('%s refuses them with a 400 naming the tool, or the custom call of the history', async (_name, model) => {
    const cases: Array<[Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, 'model'>, string]> = [
      [{ messages: [{ role: 'user', content: 'hi' }], tools: [weatherTool, sqlTool] }, 'tools[1]'],
      [{ messages: history, tools: [weatherTool] }, 'messages[1].tool_calls[0]'],
    ];
    for (const [body, param] of cases) {
      const error = await client.chat.completions.create({ model, ...body }).catch((e: unknown) => e);
      expect(error, JSON.stringify(error)).toMatchObject({ status: 400, param });
    }
    expect(anthropic.requests.filter(isPost)).toHaveLength(0);
    expect(ollama.requests.filter(isPost)).toHaveLength(0);
  });
});
