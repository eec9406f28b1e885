import OpenAI, { APIError } from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { embedText, FakeAnthropicServer, FakeOllamaServer, FakeOpenAIServer, type RecordedRequest } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const PROVIDERS = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-3-5-haiku-latest',
  ollama: 'ollama/llama3:8b',
  mock: 'mock/echo-1',
} as const;
type ProviderName = keyof typeof PROVIDERS;
type Upstream = Exclude<ProviderName, 'mock'>;
/** Providers that answer `n` choices and logprobs; the others refuse them with a 400 (README). */
const CHOICES: Record<ProviderName, boolean> = { openai: true, anthropic: false, ollama: false, mock: true };

const hello = [{ role: 'user' as const, content: 'Hello there' }];
/** Scripted behaviours go to generations only, never to the gateway's model discovery. */
const generation = (request: { method: string }) => request.method === 'POST';

const Person = z.object({ name: z.string(), age: z.number().int(), tags: z.array(z.string()) });
const WeatherArgs = z.object({ city: z.string() });
const TimeArgs = z.object({ tz: z.string() });
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const timeTool = {
  type: 'function' as const,
  function: {
    name: 'get_time',
    parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] },
  },
};
const bothTools = [{ role: 'user' as const, content: 'Please call tool get_weather and get_time for Paris' }];

/** What a call rejected with; a failure when it did not reject with an API error. */
async function rejection(call: Promise<unknown>): Promise<APIError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
  return outcome.error as APIError;
}

const functionCalls = (message: OpenAI.ChatCompletionMessage) =>
  (message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [call.function] : []));

/**
 * The official `openai` SDK's higher-level helpers (parse, stream, runTools, auto-pagination,
 * withResponse, its error classes) against the gateway, in front of fake upstreams that speak
 * each provider's wire protocol, and the built-in mock provider.
 */
describe('gateway with the openai SDK helpers', () => {
  const fakes = {
    openai: new FakeOpenAIServer({ apiKey: 'sk-upstream-openai' }),
    anthropic: new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' }),
    ollama: new FakeOllamaServer({ models: ['llama3:8b', 'nomic-embed-text:latest'] }),
  };
  let platform: TestPlatform;
  let client: OpenAI;

  /** The bodies of the generations a fake received, in order. */
  const generations = (provider: Upstream) =>
    fakes[provider].requests
      .filter(generation)
      .map((request: RecordedRequest) => request.body as Record<string, unknown>);

  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${platform.adminUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };

  beforeAll(async () => {
    const [openaiUrl, anthropicUrl] = await Promise.all([fakes.openai.start(), fakes.anthropic.start()]);
    await fakes.ollama.start();
    platform = await startPlatform({
      env: {
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OLLAMA_HOST: fakes.ollama.origin,
        UPSTREAM_MAX_RETRIES: '0',
        REQUEST_TIMEOUT_MS: '1500',
        // Scripted failures must not open circuits that later tests need closed.
        CIRCUIT_FAILURE_THRESHOLD: '1000',
      },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    await admin('/api/routes', {
      alias: 'fast',
      strategy: 'fallback',
      targets: [
        { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
        { provider: 'openai', model: 'gpt-4o-mini' },
      ],
    });
    await admin('/api/providers', { name: 'down', kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });
  beforeEach(() => {
    for (const fake of Object.values(fakes)) fake.reset();
  });

  describe.each(Object.entries(PROVIDERS) as Array<[ProviderName, string]>)('%s', (provider, model) => {
    it('parse() and stream() fill message.parsed from zodResponseFormat', async () => {
      const response_format = zodResponseFormat(Person, 'person');
      const messages = [{ role: 'user' as const, content: 'Describe a person' }];
      const parsed = await client.chat.completions.parse({ model, messages, response_format });
      expect(Person.parse(parsed.choices[0].message.parsed)).toEqual(parsed.choices[0].message.parsed);

      const deltas: string[] = [];
      const stream = client.chat.completions.stream({ model, messages, response_format });
      stream.on('content.delta', ({ delta }) => deltas.push(delta));
      const final = await stream.finalChatCompletion();
      const message = final.choices[0].message;
      expect(deltas.join('')).toBe(message.content);
      expect(Person.parse(message.parsed)).toEqual(JSON.parse(message.content ?? ''));
    });

    it('parse() and stream() fill parsed_arguments of zodFunction tools', async () => {
      const tools = [zodFunction({ name: 'get_weather', parameters: WeatherArgs })];
      const messages = [{ role: 'user' as const, content: 'Please call tool get_weather for Paris' }];
      const parsed = await client.chat.completions.parse({ model, messages, tools });
      const [call] = parsed.choices[0].message.tool_calls ?? [];
      if (!call) throw new Error('no tool call');
      expect(parsed.choices[0].finish_reason).toBe('tool_calls');
      expect(WeatherArgs.parse(call.function.parsed_arguments)).toEqual(JSON.parse(call.function.arguments));

      const fragments: string[] = [];
      const done: unknown[] = [];
      const stream = client.chat.completions.stream({ model, messages, tools });
      stream.on('tool_calls.function.arguments.delta', (event) => fragments.push(event.arguments_delta));
      stream.on('tool_calls.function.arguments.done', (event) => done.push(event.parsed_arguments));
      const [streamed] = functionCalls((await stream.finalChatCompletion()).choices[0].message);
      expect(fragments.join('')).toBe(streamed.arguments);
      expect(done).toEqual([WeatherArgs.parse(JSON.parse(streamed.arguments))]);
    });

    it.each([false, true])('runTools() runs a tool loop to the final answer (stream: %s)', async (stream) => {
      const seen: unknown[] = [];
      const tools = [
        zodFunction({
          name: 'get_weather',
          parameters: WeatherArgs,
          function: (args) => {
            seen.push(args);
            return { forecast: 'sunny and 21C' };
          },
        }),
      ];
      const messages = [{ role: 'user' as const, content: 'Please call tool get_weather for Paris' }];
      const runner = stream
        ? client.chat.completions.runTools({ model, messages, tools, stream: true })
        : client.chat.completions.runTools({ model, messages, tools });
      expect(await runner.finalContent()).toContain('sunny and 21C');
      expect(seen).toHaveLength(1);
      expect(WeatherArgs.parse(seen[0])).toEqual(seen[0]);
      expect((await runner.finalFunctionToolCall())?.name).toBe('get_weather');
      expect(runner.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    });

    it('streams two tool calls of one turn at indexes 0 and 1, which runTools runs both', async () => {
      const tools = [weatherTool, timeTool];
      const done: Array<[number, string]> = [];
      const stream = client.chat.completions.stream({ model, messages: bothTools, tools });
      stream.on('tool_calls.function.arguments.done', (event) => done.push([event.index, event.name]));
      const final = await stream.finalChatCompletion();
      expect(done).toEqual([
        [0, 'get_weather'],
        [1, 'get_time'],
      ]);
      expect(final.choices[0].finish_reason).toBe('tool_calls');
      const [weather, time] = functionCalls(final.choices[0].message);
      expect(WeatherArgs.parse(JSON.parse(weather.arguments))).toBeTruthy();
      expect(TimeArgs.parse(JSON.parse(time.arguments))).toBeTruthy();
      expect(new Set(final.choices[0].message.tool_calls?.map((call) => call.id)).size).toBe(2);

      const ran: string[] = [];
      const runner = client.chat.completions.runTools({
        model,
        messages: bothTools,
        stream: true,
        tools: [
          zodFunction({ name: 'get_weather', parameters: WeatherArgs, function: () => ran.push('weather') && 'Rain' }),
          zodFunction({ name: 'get_time', parameters: TimeArgs, function: () => ran.push('time') && 'Noon' }),
        ],
      });
      await runner.finalContent();
      expect(ran).toEqual(['weather', 'time']);
      expect(runner.messages.filter((m) => m.role === 'tool')).toHaveLength(2);
    });

    it('parallel_tool_calls: false gets one call of a turn, in JSON and streamed', async () => {
      const ask = { model, messages: bothTools, tools: [weatherTool, timeTool], parallel_tool_calls: false };
      const json = await client.chat.completions.create(ask);
      const streamed = await client.chat.completions.stream(ask).finalChatCompletion();
      for (const answer of [json, streamed]) {
        expect(functionCalls(answer.choices[0].message).map((call) => call.name)).toEqual(['get_weather']);
        expect(answer.choices[0].finish_reason).toBe('tool_calls');
      }
    });

    it('tool_choice naming a function gets that one, though the user asks for another', async () => {
      const forced = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Please call tool get_weather for Paris' }],
        tools: [weatherTool, timeTool],
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      });
      expect(functionCalls(forced.choices[0].message).map((call) => call.name)).toEqual(['get_time']);
      expect(forced.choices[0].finish_reason).toBe('tool_calls');
    });

    it('stops at a stop sequence given as a string or an array, in JSON and streamed', async () => {
      const messages = [{ role: 'user' as const, content: 'one two three four' }];
      for (const stop of ['three', ['four', 'three']]) {
        const json = await client.chat.completions.create({ model, messages, stop });
        const streamed = await client.chat.completions.stream({ model, messages, stop }).finalChatCompletion();
        for (const choice of [json.choices[0], streamed.choices[0]]) {
          expect(choice.message.content).toMatch(/one two $/);
          expect(choice.finish_reason).toBe('stop');
        }
      }
    });

    it('ends with finish_reason length at max_completion_tokens or max_tokens, in JSON and streamed', async () => {
      const messages = [{ role: 'user' as const, content: 'one two three four five six seven eight nine ten' }];
      for (const limit of [{ max_completion_tokens: 3 }, { max_tokens: 3 }]) {
        const json = await client.chat.completions.create({ model, messages, ...limit });
        const streamed = await client.chat.completions.stream({ model, messages, ...limit }).finalChatCompletion();
        for (const choice of [json.choices[0], streamed.choices[0]]) {
          expect(choice.finish_reason).toBe('length');
          expect(choice.message.content!.length).toBeLessThan(messages[0].content.length);
        }
        expect(json.usage!.completion_tokens).toBeLessThanOrEqual(3);
      }
    });

    it(`n: 2 ${CHOICES[provider] ? 'answers two choices' : 'is a 400 naming n'}, in JSON and streamed`, async () => {
      const ask = { model, messages: hello, n: 2 };
      if (!CHOICES[provider]) {
        for (const call of [
          () => client.chat.completions.create(ask),
          () => client.chat.completions.stream(ask).finalChatCompletion(),
        ]) {
          const error = await rejection(call());
          expect(error).toBeInstanceOf(OpenAI.BadRequestError);
          expect(error).toMatchObject({ status: 400, param: 'n', code: 'invalid_request_error' });
        }
        return;
      }
      const json = await client.chat.completions.create(ask);
      const streamed = await client.chat.completions.stream(ask).finalChatCompletion();
      for (const answer of [json, streamed]) {
        expect(answer.choices.map((choice) => [choice.index, choice.finish_reason])).toEqual([
          [0, 'stop'],
          [1, 'stop'],
        ]);
        for (const choice of answer.choices) expect(choice.message.content).toContain('Hello there');
      }
    });

    it(`logprobs with top_logprobs ${provider === 'openai' || provider === 'ollama' ? 'reach the client' : 'are a 400 naming them'}, in JSON and streamed`, async () => {
      const ask = { model, messages: hello, logprobs: true, top_logprobs: 2 };
      if (provider === 'anthropic' || provider === 'mock') {
        for (const call of [
          () => client.chat.completions.create(ask),
          () => client.chat.completions.stream(ask).finalChatCompletion(),
        ]) {
          const error = await rejection(call());
          expect(error).toBeInstanceOf(OpenAI.BadRequestError);
          expect(error).toMatchObject({ status: 400, param: 'logprobs' });
        }
        return;
      }
      const json = await client.chat.completions.create(ask);
      const streamed = await client.chat.completions.stream(ask).finalChatCompletion();
      for (const choice of [json.choices[0], streamed.choices[0]]) {
        const tokens = choice.logprobs?.content ?? [];
        expect(tokens.map((token) => token.token).join('')).toBe(choice.message.content);
        for (const token of tokens) expect(token.top_logprobs).toHaveLength(2);
      }
      expect(streamed.choices[0].logprobs).toEqual(json.choices[0].logprobs);
    });

    it('withResponse() and asResponse() show x-request-id and who answered, JSON and streamed', async () => {
      const { data, response, request_id } = await client.chat.completions
        .create({ model, messages: hello }, { headers: { 'x-request-id': `sdk-${provider}-1` } })
        .withResponse();
      expect(request_id).toBe(`sdk-${provider}-1`);
      expect(response.headers.get('x-gateway-provider')).toBe(provider);
      expect(response.headers.get('x-gateway-model')).toBe(data.model);
      expect(response.headers.get('x-gateway-fallbacks')).toBe('0');
      const raw = await client.chat.completions.create({ model, messages: hello, stream: true }).asResponse();
      expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(raw.headers.get('x-request-id')).toBeTruthy();
      expect(raw.headers.get('x-gateway-provider')).toBe(provider);
      expect((await raw.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
    });
  });

  it('sends user, metadata, store and seed as the README table says, and answers on every provider', async () => {
    const extras = { user: 'user-7', metadata: { feature: 'sdk' }, store: true, seed: 42 };
    for (const model of Object.values(PROVIDERS)) {
      const res = await client.chat.completions.create({ model, messages: hello, ...extras });
      expect(res.choices[0].message.content).toContain('Hello there');
    }
    expect(generations('openai')[0]).toMatchObject(extras);
    expect(generations('ollama')[0]).toMatchObject(extras);
    const anthropic = generations('anthropic')[0];
    expect(anthropic).toMatchObject({ metadata: { user_id: 'user-7' } });
    for (const field of ['seed', 'store', 'user']) expect(anthropic).not.toHaveProperty(field);
  });

  describe('legacy completions', () => {
    it.each(['openai', 'mock'] as const)(
      '%s: a batch of prompts with n: 2 gives four choices, prompt-major, in JSON and streamed',
      async (provider) => {
        const ask = { model: PROVIDERS[provider], prompt: ['first prompt', 'second prompt'], n: 2 };
        const json = await client.completions.create(ask);
        expect(json.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3]);
        expect(json.choices.map((choice) => choice.text.includes('first'))).toEqual([true, true, false, false]);
        const texts = ['', '', '', ''];
        const finishes: Array<string | null> = [null, null, null, null];
        for await (const chunk of await client.completions.create({ ...ask, stream: true })) {
          for (const choice of chunk.choices) {
            texts[choice.index] += choice.text;
            finishes[choice.index] = choice.finish_reason ?? finishes[choice.index];
          }
        }
        expect(texts).toEqual(json.choices.map((choice) => choice.text));
        expect(finishes).toEqual(['stop', 'stop', 'stop', 'stop']);
      },
    );

    it('ollama: a one-prompt list is sent as its prompt; batches and token ids are a 400 naming prompt', async () => {
      const model = PROVIDERS.ollama;
      const one = await client.completions.create({ model, prompt: ['just this'] });
      expect(one.choices[0].text).toBe('Echo: just this');
      expect(generations('ollama')[0]).toMatchObject({ prompt: 'just this' });
      for (const prompt of [
        ['first', 'second'],
        [1, 2, 3],
        [[1], [2]],
      ]) {
        const error = await rejection(client.completions.create({ model, prompt }));
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect(error).toMatchObject({ status: 400, param: 'prompt', code: 'invalid_request_error' });
      }
      expect(generations('ollama')).toHaveLength(1);
    });

    it.each(Object.entries(PROVIDERS))(
      '%s: stop and max_tokens end the text, in JSON and streamed',
      async (_, model) => {
        const prompt = 'one two three four five six seven eight nine ten';
        const stopped = await client.completions.create({ model, prompt, stop: ['three'], max_tokens: 100 });
        expect(stopped.choices[0]).toMatchObject({ text: expect.stringMatching(/one two $/), finish_reason: 'stop' });
        let text = '';
        let finish: string | null = null;
        for await (const chunk of await client.completions.create({ model, prompt, max_tokens: 3, stream: true })) {
          text += chunk.choices[0]?.text ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        expect(finish).toBe('length');
        expect(text.length).toBeLessThan(prompt.length);
      },
    );
  });

  describe('embeddings', () => {
    const EMBEDDERS = ['openai/text-embedding-3-small', 'ollama/nomic-embed-text:latest', 'mock/echo-1'];
    const tokenInputs = [
      [1, 2, 3],
      [
        [1, 2, 3],
        [4, 5],
      ],
    ];

    it.each(EMBEDDERS)('%s: the SDK default (base64), dimensions, batches and token ids', async (model) => {
      const single = await client.embeddings.create({ model, input: 'hello world' });
      expect(single.data).toHaveLength(1);
      expect(single.data[0].embedding).toHaveLength(8);
      expect(single.data[0].embedding.every((value) => typeof value === 'number')).toBe(true);
      if (!model.startsWith('mock')) {
        single.data[0].embedding.forEach((value, i) => expect(value).toBeCloseTo(embedText('hello world', 8)[i], 5));
      }

      const batch = await client.embeddings.create({ model, input: ['a', 'b', 'c'], dimensions: 4 });
      expect(batch.data.map((item) => [item.index, item.embedding.length])).toEqual([
        [0, 4],
        [1, 4],
        [2, 4],
      ]);
      expect(batch.usage.prompt_tokens).toBeGreaterThan(0);
      if (model.startsWith('ollama')) return;
      const [oneList, lists] = await Promise.all(
        tokenInputs.map((input) => client.embeddings.create({ model, input })),
      );
      expect(oneList.data).toHaveLength(1);
      expect(lists.data.map((item) => item.index)).toEqual([0, 1]);
    });

    it('ollama: token ids, which Ollama refuses as "invalid input type", are a 400 naming input', async () => {
      const model = 'ollama/nomic-embed-text:latest';
      for (const input of tokenInputs) {
        const error = await rejection(client.embeddings.create({ model, input }));
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect(error).toMatchObject({ status: 400, param: 'input', code: 'invalid_request_error' });
        expect(error.message).toMatch(/token ids/);
      }
      expect(generations('ollama')).toEqual([]);
    });
  });

  describe('models', () => {
    it('list() auto-paginates every model; retrieve() takes a provider/model id and a route alias', async () => {
      const ids: string[] = [];
      for await (const entry of client.models.list()) ids.push(entry.id);
      expect(ids).toEqual(
        expect.arrayContaining(['fast', 'openai/gpt-4o-mini', 'anthropic/claude-3-5-haiku-20241022', 'mock/echo-1']),
      );
      expect(new Set(ids).size).toBe(ids.length);
      await expect(client.models.retrieve('openai/gpt-4o-mini')).resolves.toMatchObject({
        id: 'openai/gpt-4o-mini',
        object: 'model',
        owned_by: 'openai',
      });
      await expect(client.models.retrieve('ollama/llama3:8b')).resolves.toMatchObject({ id: 'ollama/llama3:8b' });
      await expect(client.models.retrieve('fast')).resolves.toMatchObject({ id: 'fast', owned_by: 'gateway-route' });
      const missing = await rejection(client.models.retrieve('openai/no-such-model'));
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      expect(missing).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    });

    it('a route alias answers through its first target, and falls back, saying so in the headers', async () => {
      const first = await client.chat.completions.create({ model: 'fast', messages: hello }).withResponse();
      expect(first.response.headers.get('x-gateway-provider')).toBe('anthropic');
      fakes.anthropic.enqueue({ match: generation, status: 500 });
      const fallback = await client.chat.completions.create({ model: 'fast', messages: hello }).withResponse();
      expect(fallback.response.headers.get('x-gateway-provider')).toBe('openai');
      expect(fallback.response.headers.get('x-gateway-fallbacks')).toBe('1');
    });
  });

  describe('error classes', () => {
    it('BadRequestError and NotFoundError name the field and carry the code, with the request id', async () => {
      const empty = await rejection(
        client.chat.completions.create(
          { model: PROVIDERS.openai, messages: [] },
          { headers: { 'x-request-id': 'r-1' } },
        ),
      );
      expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
      expect(empty).toMatchObject({ status: 400, param: 'messages', code: 'invalid_request_error', requestID: 'r-1' });
      const hot = await rejection(
        client.chat.completions.create({ model: PROVIDERS.mock, messages: hello, temperature: 3 }),
      );
      expect(hot).toMatchObject({ status: 400, param: 'temperature', type: 'invalid_request_error' });
      const unknown = await rejection(
        client.chat.completions.stream({ model: 'nope/x', messages: hello }).finalChatCompletion(),
      );
      expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
      expect(unknown).toMatchObject({ status: 404, param: 'model', code: 'model_not_found' });
    });

    it.each(['openai', 'anthropic', 'ollama'] as const)(
      '%s: RateLimitError with retry-after, InternalServerError for 502 and 504, JSON and streamed',
      async (provider) => {
        const model = PROVIDERS[provider];
        const ask = () => client.chat.completions.create({ model, messages: hello });
        const stream = () => client.chat.completions.stream({ model, messages: hello }).finalChatCompletion();
        for (const call of [ask, stream]) {
          fakes[provider].enqueue({ match: generation, status: 429, headers: { 'retry-after': '30' } });
          const limited = await rejection(call());
          expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
          expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
          expect(limited.headers?.get('retry-after')).toBe('30');

          fakes[provider].enqueue({ match: generation, status: 500 });
          const failed = await rejection(call());
          expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
          expect(failed).toMatchObject({ status: 502, code: 'upstream_error', type: 'upstream_error' });

          fakes[provider].enqueue({ match: generation, hang: true });
          const late = await rejection(call());
          expect(late).toBeInstanceOf(OpenAI.InternalServerError);
          expect(late).toMatchObject({ status: 504, code: 'upstream_timeout' });
        }
        fakes[provider].enqueue({ match: generation, streamErrorAfter: 3 });
        const midStream = await rejection(stream());
        expect(midStream.status).toBeUndefined();
        // Anthropic's fake fails a stream as Anthropic does when overloaded: `overloaded_error`, a 503.
        const code = provider === 'anthropic' ? 'service_unavailable' : 'upstream_error';
        expect(midStream).toMatchObject({ code, type: provider === 'anthropic' ? 'service_unavailable' : code });
      },
    );

    it('InternalServerError 503 when no provider is reachable', async () => {
      const error = await rejection(client.chat.completions.create({ model: 'down/any', messages: hello }));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.status).toBe(503);
    });

    it("passes on the code of a provider's 400 (context_length_exceeded), JSON and streamed", async () => {
      const body = {
        error: {
          message: "This model's maximum context length is 128000 tokens.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      };
      for (const provider of ['openai', 'ollama'] as const) {
        const model = PROVIDERS[provider];
        fakes[provider].enqueue({ match: generation, status: 400, body, times: 2 });
        const errors = [
          await rejection(client.chat.completions.create({ model, messages: hello })),
          await rejection(client.chat.completions.stream({ model, messages: hello }).finalChatCompletion()),
        ];
        for (const error of errors) {
          expect(error).toBeInstanceOf(OpenAI.BadRequestError);
          expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });
          expect(error.message).toContain('maximum context length');
        }
      }
    });

    it("gives Anthropic's prompt-too-long 400, which has no code, as context_length_exceeded, as LiteLLM does", async () => {
      const tooLong = (message: string) => ({
        match: generation,
        status: 400,
        body: { type: 'error', error: { type: 'invalid_request_error', message } },
      });
      fakes.anthropic.enqueue(
        tooLong('prompt is too long: 208656 tokens > 200000 maximum'),
        tooLong('input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length'),
        tooLong('max_tokens: Input should be a valid integer'),
      );
      const model = PROVIDERS.anthropic;
      const errors = [
        await rejection(client.chat.completions.create({ model, messages: hello })),
        await rejection(client.chat.completions.stream({ model, messages: hello }).finalChatCompletion()),
        await rejection(client.chat.completions.create({ model, messages: hello })),
      ];
      expect(errors.map((error) => [error.status, error.code])).toEqual([
        [400, 'context_length_exceeded'],
        [400, 'context_length_exceeded'],
        [400, 'invalid_request_error'],
      ]);
      expect(errors[0].message).toContain('prompt is too long');
    });
  });
});
