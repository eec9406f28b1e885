import { randomUUID } from 'node:crypto';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOpenAIServer } from '@app/testing';
import { validateAgainst } from '@app/contracts';
import { PricingService } from '@app/usage';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { openEventStream } from '../support/event-stream';
import { storedUsageRow, storedUsageRows } from '../support/usage';
import { adminApi, createKey, createTeam } from '../support/tenancy';

const isPost = (request: { method: string }) => request.method === 'POST';
const person = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name', 'age'],
};
const personFormat = { type: 'json_schema' as const, json_schema: { name: 'person', schema: person } };
const ask = [{ role: 'user' as const, content: 'A famous programmer' }];
const weatherTools: OpenAI.ChatCompletionFunctionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];
const weather = [{ role: 'user' as const, content: 'Weather in Paris?' }];
const protocol = (...calls: Array<{ name: string; arguments: unknown }>) => JSON.stringify({ tool_calls: calls });
const parisCall = protocol({ name: 'get_weather', arguments: { city: 'Paris' } });
type Chunk = { choices: Array<{ delta: { content?: string | null; tool_calls?: unknown[] } }> };
/** The chunks of an SSE body, `[DONE]` left out. */
const chunksOf = (body: string): Chunk[] =>
  body
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => JSON.parse(frame.slice('data: '.length)) as Chunk);

/**
 * Tool calling and structured output emulated for a provider without them, end to
 * end: official SDK and raw HTTP -> gateway -> a fake OpenAI-compatible server whose
 * replies are scripted as a model's would be.
 */
describe('gateway emulation of tools and structured output', () => {
  const upstream = new FakeOpenAIServer();
  /** Refuses what OpenAI's strict mode refuses. */
  const openai = new FakeOpenAIServer({ strictSchemas: true });
  const anthropic = new FakeAnthropicServer();
  let platform: TestPlatform;
  let client: OpenAI;

  const post = async (path: string, body: unknown, requestId = randomUUID()) => {
    const res = await fetch(`${platform.gatewayUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_MASTER_KEY}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text(), requestId };
  };

  const rowOf = (requestId: string) => storedUsageRow(platform, requestId);

  beforeAll(async () => {
    await Promise.all([upstream.start(), openai.start(), anthropic.start()]);
    platform = await startPlatform({ env: { UPSTREAM_MAX_RETRIES: '0', CIRCUIT_FAILURE_THRESHOLD: '3' } });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const created = await adminApi(platform).post('/api/providers', {
      name: 'plain',
      kind: 'openai-compatible',
      baseUrl: upstream.baseURL,
      apiKey: 'k',
      options: { nativeTools: false, nativeJsonSchema: false },
    });
    expect(created.status).toBe(201);
    const native = await adminApi(platform).post('/api/providers', {
      name: 'native',
      kind: 'openai',
      baseUrl: openai.baseURL,
      apiKey: 'k',
    });
    expect(native.status).toBe(201);
    const claude = await adminApi(platform).post('/api/providers', {
      name: 'claude',
      kind: 'anthropic',
      baseUrl: anthropic.baseURL,
      apiKey: 'k',
    });
    expect(claude.status).toBe(201);
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([upstream.close(), openai.close(), anthropic.close()]);
  });
  beforeEach(() => {
    upstream.reset();
    openai.reset();
    anthropic.reset();
  });

  describe('tool calls', () => {
    it.each([
      ['a call to a tool that was not offered', protocol({ name: 'get_stock', arguments: { symbol: 'X' } })],
      ['call markup that is not valid JSON', '{"tool_calls":[{"name":"get_weather","arguments":{city: Paris}}]}'],
      ['a call whose arguments are not an object', protocol({ name: 'get_weather', arguments: 'Paris' })],
    ])('asks again after %s, and never hands the markup to the client', async (_name, bad) => {
      for (const stream of [false, true]) {
        upstream.enqueue({ match: isPost, text: bad }, { match: isPost, text: parisCall });
        const res = await post('/v1/chat/completions', {
          model: 'plain/small',
          messages: weather,
          tools: weatherTools,
          stream,
        });
        expect(res.status).toBe(200);
        expect(res.text).not.toContain('tool_calls\\"');
        const message = stream
          ? {
              content: chunksOf(res.text)
                .map((c) => c.choices[0]?.delta.content ?? '')
                .join(''),
            }
          : (JSON.parse(res.text) as OpenAI.ChatCompletion).choices[0].message;
        expect(message.content || null).toBeNull();
        expect(res.text).toContain(stream ? '"tool_calls":[{"index":0,"id":"call_' : '"tool_calls":[{"id":"call_');
        expect(res.text).toContain('"finish_reason":"tool_calls"');
        const repair = upstream.requests.filter(isPost).at(-1)!.body as { messages: Array<{ content: string }> };
        expect(repair.messages.at(-2)?.content).toBe(bad);
        expect(repair.messages.at(-1)?.content).toMatch(/get_weather/);
      }
    });

    it('keeps what the model says around its call as content, in JSON, streamed and on the Messages API', async () => {
      const reply = `I will look that up.\n\`\`\`json\n${parisCall}\n\`\`\``;
      upstream.enqueue({ match: isPost, text: reply, times: 3 });
      const res = await client.chat.completions.create({
        model: 'plain/small',
        messages: weather,
        tools: weatherTools,
      });
      expect(res.choices[0].message.content).toBe('I will look that up.');
      expect(res.choices[0].message.tool_calls).toHaveLength(1);
      const streamed = await client.chat.completions
        .stream({ model: 'plain/small', messages: weather, tools: weatherTools })
        .finalChatCompletion();
      expect(streamed.choices[0].message).toMatchObject({
        content: 'I will look that up.',
        tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      });
      const messages = await post('/v1/messages', {
        model: 'plain/small',
        max_tokens: 200,
        messages: weather,
        tools: [{ name: 'get_weather', input_schema: weatherTools[0].function.parameters }],
      });
      expect(JSON.parse(messages.text)).toMatchObject({
        content: [
          { type: 'text', text: 'I will look that up.' },
          { type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
      });
    });

    it("reads parallel calls written in the model's own markup (Hermes tags), JSON and streamed, markup left out", async () => {
      const call = (name: string, args: object) =>
        `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;
      const reply = `Let me check both.\n${call('get_weather', { city: 'Paris' })}\n${call('get_time', {})}`;
      upstream.enqueue({ match: isPost, text: reply, times: 2 });
      const calls = [
        { type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ];
      const res = await client.chat.completions.create({
        model: 'plain/small',
        messages: weather,
        tools: weatherTools,
      });
      expect(res.choices[0]).toMatchObject({
        finish_reason: 'tool_calls',
        message: { content: 'Let me check both.', tool_calls: calls },
      });
      const streamed = await client.chat.completions
        .stream({ model: 'plain/small', messages: weather, tools: weatherTools })
        .finalChatCompletion();
      expect(streamed.choices[0].message).toMatchObject({ content: 'Let me check both.', tool_calls: calls });
      expect(upstream.requests.filter(isPost)).toHaveLength(2);
    });

    it('sends tool results as user text, merged into a user turn that follows (parts too): roles alternate', async () => {
      upstream.enqueue({ match: isPost, text: 'It is 18°C.' });
      const res = await client.chat.completions.create({
        model: 'plain/small',
        tools: weatherTools,
        messages: [
          ...weather,
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '18°C, sunny' }] },
          { role: 'user', content: [{ type: 'text', text: 'And in Fahrenheit?' }] },
        ],
      });
      expect(res.choices[0].message.content).toBe('It is 18°C.');
      const sent = (upstream.requests.filter(isPost).at(-1)!.body as { messages: Array<{ role: string }> }).messages;
      expect(sent.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      expect(JSON.stringify(sent.at(-1))).toContain('Tool result (get_weather, call call_1):\\n18°C, sunny');
      expect(JSON.stringify(sent.at(-1))).toContain('And in Fahrenheit?');
    });

    it('asks again when tool_choice requires a call and the reply is text; a named function too', async () => {
      for (const toolChoice of ['required', { type: 'function', function: { name: 'get_weather' } }] as const) {
        upstream.enqueue({ match: isPost, text: 'It is sunny in Paris.' }, { match: isPost, text: parisCall });
        const res = await client.chat.completions.create({
          model: 'plain/small',
          messages: weather,
          tools: weatherTools,
          tool_choice: toolChoice,
        });
        expect(res.choices[0].finish_reason).toBe('tool_calls');
        const call = res.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
        expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
      }
    });

    it('answers 502 when the repair is no better, with both calls recorded', async () => {
      const bad = protocol({ name: 'get_stock', arguments: {} });
      upstream.enqueue(
        { match: isPost, text: bad, usage: { prompt_tokens: 50, completion_tokens: 5 } },
        { match: isPost, text: bad, usage: { prompt_tokens: 60, completion_tokens: 5 } },
      );
      const res = await post('/v1/chat/completions', { model: 'plain/small', messages: weather, tools: weatherTools });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text)).toMatchObject({
        error: { code: 'upstream_error', message: expect.stringMatching(/get_stock/) },
      });
      expect(await rowOf(res.requestId)).toMatchObject({ status: 502, promptTokens: 110, completionTokens: 10 });
    });

    describe('under tool_choice none, after earlier calls', () => {
      const history: OpenAI.ChatCompletionMessageParam[] = [
        ...weather,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C, sunny' },
        { role: 'user', content: 'And tomorrow?' },
      ];
      type Sent = { messages: Array<{ role: string; content: string }> };
      const sentBodies = () => upstream.requests.filter(isPost).map((r) => r.body as Sent);

      it('tells the model no tool can be called, and asks for plain text when it calls one anyway', async () => {
        for (const stream of [false, true]) {
          upstream.reset();
          upstream.enqueue({ match: isPost, text: parisCall }, { match: isPost, text: 'Tomorrow looks sunny too.' });
          const res = stream
            ? await client.chat.completions
                .stream({ model: 'plain/small', messages: history, tools: weatherTools, tool_choice: 'none' })
                .finalChatCompletion()
            : await client.chat.completions.create({
                model: 'plain/small',
                messages: history,
                tools: weatherTools,
                tool_choice: 'none',
              });
          expect(res.choices[0].message.content).toBe('Tomorrow looks sunny too.');
          expect(res.choices[0].message.tool_calls ?? []).toEqual([]);
          expect(res.choices[0].finish_reason).toBe('stop');
          const [first, repair] = sentBodies();
          expect(first.messages[0]).toMatchObject({
            role: 'system',
            content: expect.stringContaining('No tool can be called'),
          });
          // The tools themselves are not described: none may be called.
          expect(first.messages[0].content).not.toContain('get_weather');
          expect(repair.messages.at(-2)?.content).toBe(parisCall);
          expect(repair.messages.at(-1)?.content).toMatch(/plain text/);
        }
      });

      it('answers 502 rather than pass call markup on as text when the repair calls again', async () => {
        upstream.enqueue({ match: isPost, text: parisCall, times: 2 });
        const res = await post('/v1/chat/completions', {
          model: 'plain/small',
          messages: history,
          tools: weatherTools,
          tool_choice: 'none',
        });
        expect(res.status).toBe(502);
        expect(JSON.parse(res.text)).toMatchObject({
          error: { code: 'upstream_error', message: expect.stringMatching(/no tool can be called/) },
        });
        expect(res.text).not.toContain('tool_calls\\"');
        expect(sentBodies()).toHaveLength(2);
      });

      it('leaves a plain answer alone, and keeps the same rule on the Messages API', async () => {
        upstream.enqueue({ match: isPost, text: 'Tomorrow looks sunny too.' });
        const res = await client.chat.completions.create({
          model: 'plain/small',
          messages: history,
          tools: weatherTools,
          tool_choice: 'none',
        });
        expect(res.choices[0].message.content).toBe('Tomorrow looks sunny too.');
        expect(sentBodies()).toHaveLength(1);

        upstream.reset();
        upstream.enqueue({ match: isPost, text: parisCall }, { match: isPost, text: 'Sunny again.' });
        const messages = await post('/v1/messages', {
          model: 'plain/small',
          max_tokens: 200,
          tools: [{ name: 'get_weather', input_schema: weatherTools[0].function.parameters }],
          tool_choice: { type: 'none' },
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            {
              role: 'assistant',
              content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
            },
            {
              role: 'user',
              content: [
                { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' },
                { type: 'text', text: 'And tomorrow?' },
              ],
            },
          ],
        });
        expect(JSON.parse(messages.text)).toMatchObject({
          content: [{ type: 'text', text: 'Sunny again.' }],
          stop_reason: 'end_turn',
        });
        expect(sentBodies()).toHaveLength(2);
      });
    });

    it('leaves plain text and JSON that is no call alone under tool_choice auto, without asking again', async () => {
      for (const text of ['It is sunny.', '{"name": "Ada", "age": 36}']) {
        upstream.enqueue({ match: isPost, text });
        const res = await client.chat.completions.create({
          model: 'plain/small',
          messages: weather,
          tools: weatherTools,
        });
        expect(res.choices[0].message.content).toBe(text);
        expect(res.choices[0].finish_reason).toBe('stop');
      }
      expect(upstream.requests.filter(isPost)).toHaveLength(2);
    });
  });

  describe('structured output', () => {
    it('/v1/generate/structured asks OpenAI for strict output only with a schema strict mode takes', async () => {
      const optionalAge = { ...person, required: ['name'] };
      const closed = { ...person, additionalProperties: false };
      for (const schema of [person, optionalAge, closed]) {
        const res = await post('/v1/generate/structured', { model: 'native/gpt-4o-mini', prompt: 'Ada', schema });
        expect(res.status, res.text).toBe(200);
        expect(JSON.parse(res.text)).toMatchObject({ object: { name: expect.any(String) } });
      }
      const sent = openai.requests
        .filter(isPost)
        .map((r) => (r.body as { response_format: { json_schema: { strict?: boolean } } }).response_format);
      expect(sent.map((format) => format.json_schema.strict)).toEqual([false, false, true]);
    });

    it('/v1/generate/structured keeps properties named constructor and prototype (names like any other)', async () => {
      const schema = {
        type: 'object',
        properties: { constructor: { type: 'string' }, prototype: { type: 'string' }, name: { type: 'string' } },
        required: ['constructor', 'prototype', 'name'],
        additionalProperties: false,
      };
      const res = await post('/v1/generate/structured', { model: 'native/gpt-4o-mini', prompt: 'Ada', schema });
      expect(res.status, res.text).toBe(200);
      const sent = openai.requests.filter(isPost).at(-1)!.body as {
        response_format: { json_schema: { schema: { properties: Record<string, unknown> } } };
      };
      expect(Object.keys(sent.response_format.json_schema.schema.properties)).toEqual([
        'constructor',
        'prototype',
        'name',
      ]);
      expect(Object.keys((JSON.parse(res.text) as { object: object }).object).sort()).toEqual([
        'constructor',
        'name',
        'prototype',
      ]);
    });

    it('/v1/generate/structured answers a schema that is not an object on every provider, asking for it in an object', async () => {
      const names = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 2 };
      const answers: Record<string, unknown> = {};
      for (const model of ['claude/claude-sonnet-4-5', 'native/gpt-4o-mini', 'plain/small']) {
        if (model.startsWith('plain')) upstream.enqueue({ match: isPost, text: '{"value": ["Ada", "Grace"]}' });
        const res = await post('/v1/generate/structured', { model, prompt: 'two names', schema: names });
        expect(res.status, res.text).toBe(200);
        answers[model] = JSON.parse(res.text).object;
      }
      for (const object of Object.values(answers)) {
        expect(object).toEqual([expect.any(String), expect.any(String)]);
      }
      // Anthropic answers through a tool, whose input is an object; OpenAI's strict mode wants one at the root.
      const tool = (anthropic.requests.find(isPost)?.body as { tools: Array<{ input_schema: unknown }> }).tools[0];
      expect(tool.input_schema).toMatchObject({ type: 'object', properties: { value: names }, required: ['value'] });
      const format = (openai.requests.find(isPost)?.body as { response_format: { json_schema: unknown } })
        .response_format.json_schema;
      expect(format).toMatchObject({ strict: true, schema: { properties: { value: names } } });

      // A value that is one of several shapes, or a scalar, the same way.
      for (const schema of [
        { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        { type: 'string', enum: ['yes', 'no'] },
      ]) {
        const res = await post('/v1/generate/structured', { model: 'claude/claude-sonnet-4-5', prompt: 'x', schema });
        expect(res.status, res.text).toBe(200);
        expect(validateAgainst(schema, JSON.parse(res.text).object)).toEqual({ ok: true });
      }
    });

    it('/v1/generate/structured checks a native reply too: one repair, then a failure recorded as one', async () => {
      const bad = { match: isPost, text: '{"name": "Ada"}', usage: { prompt_tokens: 40, completion_tokens: 5 } };
      const good = {
        match: isPost,
        text: '{"name": "Ada", "age": 36}',
        usage: { prompt_tokens: 50, completion_tokens: 7 },
      };
      openai.enqueue(bad, good);
      const repaired = await post('/v1/generate/structured', {
        model: 'native/gpt-4o-mini',
        prompt: 'Ada',
        schema: person,
      });
      expect(repaired.status, repaired.text).toBe(200);
      expect(JSON.parse(repaired.text)).toMatchObject({
        object: { name: 'Ada', age: 36 },
        usage: { prompt_tokens: 90 },
      });
      const repairTurn = openai.requests.filter(isPost)[1].body as {
        messages: Array<{ role: string; content: string }>;
      };
      expect(repairTurn.messages.at(-1)?.content).toContain("must have required property 'age'");
      expect(await rowOf(repaired.requestId)).toMatchObject({ status: 200, promptTokens: 90, completionTokens: 12 });

      openai.enqueue(bad, bad);
      const failed = await post('/v1/generate/structured', {
        model: 'native/gpt-4o-mini',
        prompt: 'Ada',
        schema: person,
      });
      expect(failed.status, failed.text).toBe(502);
      expect(JSON.parse(failed.text).error.message).toContain('did not produce JSON matching the schema');
      expect(await rowOf(failed.requestId)).toMatchObject({ status: 502, promptTokens: 80, completionTokens: 10 });
    });

    it('/v1/generate/structured repairs a reply that calls a tool none was offered, and fails it inside the route', async () => {
      const calling = {
        match: isPost,
        status: 200,
        body: {
          id: 'chatcmpl-call',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: 'gpt-4o-mini',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'x', arguments: '{}' } }],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 30, completion_tokens: 4, total_tokens: 34 },
        },
      };
      openai.enqueue(calling, { match: isPost, text: '{"name": "Ada", "age": 36}' });
      const repaired = await post('/v1/generate/structured', {
        model: 'native/gpt-4o-mini',
        prompt: 'Ada',
        schema: person,
      });
      expect(repaired.status, repaired.text).toBe(200);
      expect(JSON.parse(repaired.text).object).toEqual({ name: 'Ada', age: 36 });

      openai.enqueue(calling, calling);
      const failed = await post('/v1/generate/structured', {
        model: 'native/gpt-4o-mini',
        prompt: 'Ada',
        schema: person,
      });
      expect(failed.status, failed.text).toBe(502);
      // Recorded as the failure it is (it was a 200 row for a 502 answer).
      expect(await rowOf(failed.requestId)).toMatchObject({ status: 502 });
    });

    it('checks and cleans every choice of n > 1, not only the first', async () => {
      upstream.enqueue({ match: isPost, text: 'Here you go:\n```json\n{"name": "Ada", "age": 36}\n```' });
      const res = await client.chat.completions.create({
        model: 'plain/small',
        messages: ask,
        response_format: personFormat,
        n: 2,
      });
      expect(res.choices.map((choice) => choice.message.content)).toEqual([
        '{"name":"Ada","age":36}',
        '{"name":"Ada","age":36}',
      ]);
    });

    it('counts the tokens of the first reply and of its repair, for the client and in the usage row', async () => {
      const badThenGood = () =>
        upstream.enqueue(
          { match: isPost, text: '{"name": "Ada"}', usage: { prompt_tokens: 100, completion_tokens: 5 } },
          { match: isPost, text: '{"name": "Ada", "age": 36}', usage: { prompt_tokens: 130, completion_tokens: 9 } },
        );
      badThenGood();
      const requestId = randomUUID();
      const res = await client.chat.completions.create(
        { model: 'plain/small', messages: ask, response_format: personFormat },
        { headers: { 'x-request-id': requestId } },
      );
      expect(JSON.parse(res.choices[0].message.content!)).toEqual({ name: 'Ada', age: 36 });
      expect(res.usage).toMatchObject({ prompt_tokens: 230, completion_tokens: 14, total_tokens: 244 });
      expect(await rowOf(requestId)).toMatchObject({ promptTokens: 230, completionTokens: 14, totalTokens: 244 });

      badThenGood();
      const streamId = randomUUID();
      const stream = await client.chat.completions.create(
        {
          model: 'plain/small',
          messages: ask,
          response_format: personFormat,
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { 'x-request-id': streamId } },
      );
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      expect(usage).toMatchObject({ prompt_tokens: 230, completion_tokens: 14 });
      expect(await rowOf(streamId)).toMatchObject({ promptTokens: 230, completionTokens: 14 });
    });

    it('answers 502 for a reply that fails the schema twice, records both calls, and keeps the provider open', async () => {
      // More failures than CIRCUIT_FAILURE_THRESHOLD: the model's answers, not the provider, are at fault.
      for (let i = 0; i < 4; i++) {
        upstream.enqueue(
          { match: isPost, text: '{"name": "Ada"}', usage: { prompt_tokens: 100, completion_tokens: 5 } },
          { match: isPost, text: 'Sorry, {"age": "old"}', usage: { prompt_tokens: 130, completion_tokens: 9 } },
        );
        const requestId = randomUUID();
        const error = await client.chat.completions
          .create(
            { model: 'plain/small', messages: ask, response_format: personFormat, stream: i % 2 === 1 },
            { headers: { 'x-request-id': requestId } },
          )
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).status).toBe(502);
        expect((error as APIError).message).toMatch(/schema/);
        expect(await rowOf(requestId)).toMatchObject({ status: 502, promptTokens: 230, completionTokens: 14 });
      }
      expect(upstream.requests.filter(isPost)).toHaveLength(8);
      const res = await client.chat.completions.create({ model: 'plain/small', messages: ask });
      expect(res.choices[0].message.content).toBe('Echo: A famous programmer');
    });
  });

  describe('per-model capability flags', () => {
    it('emulates tools and JSON Schema for the models flagged without them, and leaves the others native', async () => {
      const models = { 'tiny-*': { nativeTools: false }, 'tiny-json': { nativeJsonSchema: true } };
      const created = await adminApi(platform).post('/api/providers', {
        name: 'mixed',
        kind: 'openai-compatible',
        baseUrl: upstream.baseURL,
        apiKey: 'k',
        options: { nativeJsonSchema: false, models },
      });
      expect(created.status).toBe(201);
      expect((await adminApi(platform).get(`/api/providers/${created.body.id}`)).body.options).toEqual({
        nativeJsonSchema: false,
        models,
      });
      type Sent = { tools?: unknown; response_format?: unknown; messages: Array<{ role: string; content: string }> };
      const sent = () => upstream.requests.filter(isPost).at(-1)!.body as Sent;

      // Tools: native for big-70b (the provider's default), emulated for the tiny-* models.
      for (const [model, native] of [
        ['big-70b', true],
        ['tiny-1b', false],
        ['tiny-json', false],
      ] as const) {
        if (!native) upstream.enqueue({ match: isPost, text: parisCall });
        const res = await client.chat.completions.create({
          model: `mixed/${model}`,
          messages: weather,
          tools: weatherTools,
          tool_choice: 'required',
        });
        expect(res.choices[0].finish_reason, model).toBe('tool_calls');
        expect(sent().tools !== undefined, model).toBe(native);
        expect(sent().messages[0].content.includes('# Tools'), model).toBe(!native);
      }

      // JSON Schema: emulated for the provider (nativeJsonSchema: false), native for tiny-json alone.
      for (const [model, native] of [
        ['big-70b', false],
        ['tiny-1b', false],
        ['tiny-json', true],
      ] as const) {
        if (!native) upstream.enqueue({ match: isPost, text: '{"name": "Ada", "age": 36}' });
        const res = await client.chat.completions.create({
          model: `mixed/${model}`,
          messages: ask,
          response_format: personFormat,
        });
        expect(JSON.parse(res.choices[0].message.content!), model).toMatchObject({ name: expect.any(String) });
        expect(sent().response_format, model).toEqual(native ? personFormat : undefined);
      }
    });
  });

  describe('usage of answers that were not used', () => {
    const badPerson = { match: isPost, text: '{"name": "Ada"}', usage: { prompt_tokens: 100, completion_tokens: 5 } };

    it('records the first reply of a repair whose call fails upstream, JSON and streamed, tools too', async () => {
      // A provider of its own: three 500s open its circuit (CIRCUIT_FAILURE_THRESHOLD), and `plain` must stay usable.
      const flaky = await adminApi(platform).post('/api/providers', {
        name: 'flaky',
        kind: 'openai-compatible',
        baseUrl: upstream.baseURL,
        apiKey: 'k',
        options: { nativeTools: false, nativeJsonSchema: false },
      });
      expect(flaky.status).toBe(201);
      const cases: Array<Omit<OpenAI.ChatCompletionCreateParams, 'model'>> = [
        { response_format: personFormat, messages: ask },
        { response_format: personFormat, messages: ask, stream: true },
        { tools: weatherTools, messages: weather },
      ];
      for (const body of cases) {
        const first = body.tools ? { ...badPerson, text: protocol({ name: 'get_stock', arguments: {} }) } : badPerson;
        upstream.enqueue(first, { match: isPost, status: 500 });
        const requestId = randomUUID();
        const error = await client.chat.completions
          .create({ model: 'flaky/small', ...body }, { headers: { 'x-request-id': requestId } })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).status).toBe(502);
        expect(upstream.requests.filter(isPost)).toHaveLength(2);
        upstream.reset();
        expect(await rowOf(requestId)).toMatchObject({
          status: 502,
          provider: 'flaky',
          promptTokens: 100,
          completionTokens: 5,
          discarded: false,
        });
      }
    });

    it('bills the target a route fell back from, as a row of its own at its own price, not as a request', async () => {
      const alias = `person-${randomUUID().slice(0, 8)}`;
      const route = await adminApi(platform).post('/api/routes', {
        alias,
        strategy: 'fallback',
        targets: [
          { provider: 'plain', model: 'small' },
          { provider: 'native', model: 'gpt-4o-mini' },
        ],
      });
      expect(route.status).toBe(201);
      const price = await adminApi(platform).post('/api/pricing', {
        provider: 'plain',
        model: 'small',
        inputPerMTok: 1000,
        outputPerMTok: 2000,
      });
      expect(price.status).toBe(201);
      const pricing = platform.gateway!.app.get(PricingService);
      const tokens = (promptTokens: number, completionTokens: number) => ({
        promptTokens,
        completionTokens,
        cachedTokens: 0,
      });
      await expect.poll(() => pricing.cost('plain', 'small', tokens(1_000_000, 0))).toBe(1000);
      const teamId = await createTeam(platform);
      const { key } = await createKey(platform, teamId);
      const team = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: key, maxRetries: 0 });
      const events = await openEventStream(
        `${platform.gatewayUrl}/v1/events/stream?types=generation_completed`,
        TEST_MASTER_KEY,
      );

      for (const stream of [false, true]) {
        upstream.enqueue(badPerson, {
          match: isPost,
          text: 'Sorry, {"age": "old"}',
          usage: { prompt_tokens: 130, completion_tokens: 9 },
        });
        openai.enqueue({
          match: isPost,
          text: '{"name":"Ada","age":36}',
          usage: { prompt_tokens: 40, completion_tokens: 7 },
        });
        const requestId = randomUUID();
        const headers = { 'x-request-id': requestId };
        let usage: OpenAI.CompletionUsage | undefined;
        let response: Response;
        if (stream) {
          const sent = await team.chat.completions
            .create(
              {
                model: alias,
                messages: ask,
                response_format: personFormat,
                stream,
                stream_options: { include_usage: true },
              },
              { headers },
            )
            .withResponse();
          for await (const chunk of sent.data) usage = chunk.usage ?? usage;
          response = sent.response;
        } else {
          const sent = await team.chat.completions
            .create({ model: alias, messages: ask, response_format: personFormat }, { headers })
            .withResponse();
          expect(JSON.parse(sent.data.choices[0].message.content!)).toMatchObject({ name: expect.any(String) });
          usage = sent.data.usage;
          response = sent.response;
        }
        expect(response.headers.get('x-gateway-fallbacks')).toBe('1');
        // The client is told what its answer cost, as a native provider would.
        expect(usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 7, total_tokens: 47 });
        const rows = await storedUsageRows(platform, requestId, 2);
        const own = rows.find((row) => !row.discarded)!;
        const discarded = rows.find((row) => row.discarded)!;
        expect(own).toMatchObject({
          provider: 'native',
          modelRequested: alias,
          routeAlias: alias,
          status: 200,
          promptTokens: 40,
          completionTokens: 7,
          fallbackCount: 1,
          stream,
          discarded: false,
        });
        expect(own.costUsd).toBeCloseTo(pricing.cost('native', own.modelServed!, tokens(40, 7)), 8);
        expect(discarded).toMatchObject({
          teamId,
          provider: 'plain',
          modelRequested: alias,
          modelServed: 'small',
          routeAlias: alias,
          status: 502,
          errorCode: 'upstream_error',
          promptTokens: 230,
          completionTokens: 14,
          stream,
          discarded: true,
        });
        expect(discarded.costUsd).toBeCloseTo((230 * 1000 + 14 * 2000) / 1e6, 8);
        // One event for the request, its own tokens in its totals and the discarded ones listed apart.
        const completed = await events.waitFor((e) => e.requestId === requestId);
        expect(events.events.filter((e) => e.requestId === requestId)).toHaveLength(1);
        expect(completed.data).toMatchObject({
          provider: 'native',
          promptTokens: 40,
          completionTokens: 7,
          discarded: [
            {
              provider: 'plain',
              model: 'small',
              status: 502,
              errorCode: 'upstream_error',
              promptTokens: 230,
              completionTokens: 14,
              cachedTokens: 0,
              costUsd: discarded.costUsd,
            },
          ],
        });
      }
      events.close();

      // The log shows both rows; the summary counts two requests, with every token where it was spent.
      const records = await adminApi(platform).get(`/api/usage/records?teamId=${teamId}`);
      expect(records.body.data.map((r: { discarded: boolean }) => r.discarded).sort()).toEqual([
        false,
        false,
        true,
        true,
      ]);
      const hour = 3_600_000;
      const range = `from=${new Date(Date.now() - hour).toISOString()}&to=${new Date(Date.now() + hour).toISOString()}`;
      const summary = await adminApi(platform).get(`/api/usage/summary?${range}&teamId=${teamId}&groupBy=provider`);
      expect(summary.status).toBe(200);
      expect(summary.body.totals).toMatchObject({
        requests: 2,
        errors: 0,
        promptTokens: 2 * 270,
        completionTokens: 2 * 21,
      });
      const byProvider = Object.fromEntries(
        summary.body.groups.map((g: { key: string; requests: number; promptTokens: number }) => [g.key, g]),
      );
      expect(byProvider.plain).toMatchObject({ requests: 0, errors: 0, promptTokens: 460, completionTokens: 28 });
      expect(byProvider.native).toMatchObject({ requests: 2, errors: 0, promptTokens: 80, completionTokens: 14 });
      expect(byProvider.plain.costUsd).toBeCloseTo((2 * (230 * 1000 + 14 * 2000)) / 1e6, 6);
    });
  });

  describe('patterns that could stall the gateway', () => {
    /**
     * The classic: `(a+)+` on 40 a's and a `!` backtracks 2^40 times on V8, which runs it here
     * because of the lookahead (re2js, which runs the others, has none).
     */
    const evil = {
      type: 'object',
      properties: { name: { type: 'string', pattern: '^(?=a)(a+)+$' } },
      required: ['name'],
    };
    const evilReply = JSON.stringify({ name: `${'a'.repeat(40)}!` });

    it('refuses a schema the gateway would check a reply against with such a pattern, before any provider is called', async () => {
      upstream.setDefaultBehaviour({ text: evilReply });
      try {
        const strictTool = { type: 'function', function: { name: 'f', parameters: evil, strict: true } };
        const cases: Array<[string, unknown, string]> = [
          ['/v1/generate/structured', { model: 'plain/small', prompt: 'a name', schema: evil }, 'schema'],
          [
            '/v1/chat/completions',
            {
              model: 'plain/small',
              messages: ask,
              response_format: { type: 'json_schema', json_schema: { name: 'x', schema: evil } },
            },
            'response_format.json_schema.schema',
          ],
          [
            '/v1/chat/completions',
            { model: 'plain/small', messages: ask, tools: [strictTool] },
            'tools[0].function.parameters',
          ],
          [
            '/v1/messages',
            {
              model: 'plain/small',
              max_tokens: 50,
              messages: ask,
              output_config: { format: { type: 'json_schema', schema: evil } },
            },
            'output_config.format.schema',
          ],
        ];
        for (const [path, body, param] of cases) {
          const started = performance.now();
          const res = await post(path, body);
          expect(res.status, res.text).toBe(400);
          expect(JSON.parse(res.text).error).toMatchObject({
            param,
            message: expect.stringContaining('"^(?=a)(a+)+$" at $.properties.name.pattern can take exponential time'),
          });
          expect(JSON.parse(res.text).error.message).toContain('it has a lookahead `(?=...)`');
          expect(performance.now() - started).toBeLessThan(1_000);
        }
        expect(upstream.requests.filter(isPost)).toHaveLength(0);
        expect((await fetch(`${platform.gatewayUrl}/health`)).status).toBe(200);
      } finally {
        upstream.setDefaultBehaviour({});
      }
    });

    it('passes such a schema on where only the provider reads it: a tool that is not strict', async () => {
      const res = await client.chat.completions.create({
        model: 'native/gpt-4o-mini',
        messages: ask,
        tools: [{ type: 'function', function: { name: 'f', parameters: evil } }],
      });
      expect(res.choices[0].message.content).toBeTruthy();
    });

    /** semver.org's pattern: safe, but refused by the safety analysis until re2js ran it. */
    const semver =
      '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)' +
      '(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';
    const release = {
      type: 'object',
      properties: {
        version: { type: 'string', pattern: semver },
        timeout: { type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s))+$' },
      },
      required: ['version', 'timeout'],
    };

    it("checks replies against patterns the safety analysis refused although safe (semver.org's), on chat and /v1/generate/structured", async () => {
      upstream.enqueue(
        { match: isPost, text: JSON.stringify({ version: '1.2', timeout: '1s500ms' }) },
        { match: isPost, text: JSON.stringify({ version: '1.2.3-rc.1+build.5', timeout: '1s500ms' }) },
      );
      const res = await post('/v1/generate/structured', { model: 'plain/small', prompt: 'a release', schema: release });
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).object).toEqual({ version: '1.2.3-rc.1+build.5', timeout: '1s500ms' });
      const repair = upstream.requests.filter(isPost).at(-1)!.body as { messages: Array<{ content: string }> };
      expect(repair.messages.at(-1)!.content).toContain('$.version must match pattern');

      upstream.enqueue({ match: isPost, text: JSON.stringify({ version: '2.0.0', timeout: '30s' }) });
      const chat = await client.chat.completions.create({
        model: 'plain/small',
        messages: ask,
        response_format: { type: 'json_schema', json_schema: { name: 'release', schema: release, strict: true } },
      });
      expect(JSON.parse(chat.choices[0].message.content!)).toEqual({ version: '2.0.0', timeout: '30s' });
    });

    it('runs a pattern V8 takes exponential time on in linear time: a 20,000-character reply built to trip it is checked, then repaired', async () => {
      const schema = {
        type: 'object',
        properties: { name: { type: 'string', pattern: '^(a+)+$' } },
        required: ['name'],
      };
      upstream.enqueue(
        { match: isPost, text: JSON.stringify({ name: `${'a'.repeat(20_000)}!` }) },
        { match: isPost, text: JSON.stringify({ name: 'aaa' }) },
      );
      const res = await post('/v1/generate/structured', { model: 'plain/small', prompt: 'a name', schema });
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).object).toEqual({ name: 'aaa' });
      const repair = upstream.requests.filter(isPost).at(-1)!.body as { messages: Array<{ content: string }> };
      expect(repair.messages.at(-1)!.content).toContain('$.name must match pattern');
      expect((await fetch(`${platform.gatewayUrl}/health`)).status).toBe(200);
    });

    it('checks no text longer than 10,000 characters against a pattern V8 runs: such a reply is repaired, as any invalid one', async () => {
      const schema = {
        type: 'object',
        properties: { word: { type: 'string', pattern: '^(?=c|d)(cat|dog)+$' } },
        required: ['word'],
      };
      upstream.enqueue(
        { match: isPost, text: JSON.stringify({ word: 'catdog'.repeat(2_000) }) },
        { match: isPost, text: JSON.stringify({ word: 'catdog' }) },
      );
      const res = await post('/v1/generate/structured', { model: 'plain/small', prompt: 'a word', schema });
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).object).toEqual({ word: 'catdog' });
      const repair = upstream.requests.filter(isPost).at(-1)!.body as { messages: Array<{ content: string }> };
      expect(repair.messages.at(-1)!.content).toContain(
        'a text of 12000 characters is longer than the 10000 checked against a pattern',
      );
    });

    it('checks longer texts against a pattern re2js runs, up to 100,000 characters', async () => {
      const schema = {
        type: 'object',
        properties: { word: { type: 'string', pattern: '^(cat|dog)+$' } },
        required: ['word'],
      };
      upstream.enqueue(
        { match: isPost, text: JSON.stringify({ word: 'catdog'.repeat(2_000) }) },
        { match: isPost, text: JSON.stringify({ word: 'catdog'.repeat(20_000) }) },
        { match: isPost, text: JSON.stringify({ word: 'catdog' }) },
      );
      const first = await post('/v1/generate/structured', { model: 'plain/small', prompt: 'a word', schema });
      expect(first.status, first.text).toBe(200);
      expect(JSON.parse(first.text).object).toEqual({ word: 'catdog'.repeat(2_000) });
      const second = await post('/v1/generate/structured', { model: 'plain/small', prompt: 'a word', schema });
      expect(second.status, second.text).toBe(200);
      expect(JSON.parse(second.text).object).toEqual({ word: 'catdog' });
      const repair = upstream.requests.filter(isPost).at(-1)!.body as { messages: Array<{ content: string }> };
      expect(repair.messages.at(-1)!.content).toMatch(/a text of 120000 characters is longer than the \d+ checked/);
    });
  });
});
