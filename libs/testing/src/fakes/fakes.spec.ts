import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOllamaServer, FakeOpenAIServer } from './index';

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'one two three four' }] };
const askStream = { ...ask, stream: true as const };

describe('FakeUpstream scripted behaviours (driven by the openai client)', () => {
  const fake = new FakeOpenAIServer();
  let client: OpenAI;

  beforeAll(async () => {
    client = new OpenAI({ baseURL: await fake.start(), apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('records method, path, headers and the parsed JSON body', async () => {
    await client.chat.completions.create({ ...ask, temperature: 0.2 });
    expect(fake.requests).toHaveLength(1);
    const [seen] = fake.requests;
    expect(seen).toMatchObject({ id: 1, method: 'POST', path: '/v1/chat/completions', aborted: false, status: 200 });
    expect(seen.headers.authorization).toBe('Bearer sk-test');
    expect(seen.body).toEqual({ ...ask, temperature: 0.2 });
    await fake.waitForRequest((r) => r.finished, 1_000);
  });

  it('raises APIError with the scripted status, body and retry-after', async () => {
    fake.enqueue(
      { status: 500 },
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 400, body: { error: { message: 'bad thing', type: 'invalid_request_error' } } },
    );
    const failure: unknown = await client.chat.completions.create(ask).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.InternalServerError);
    const limited: unknown = await client.chat.completions.create(ask).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as APIError).headers?.get('retry-after')).toBe('2');
    expect((limited as APIError).code).toBe('rate_limit_exceeded');
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({ status: 400, message: '400 bad thing' });
    await expect(client.chat.completions.create(ask)).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('consumes behaviours by match and times, then falls back to the default', async () => {
    fake.enqueue({ status: 503, times: 2, match: (r) => r.path.endsWith('/chat/completions') });
    await expect(client.embeddings.create({ model: 'e', input: 'x' })).resolves.toBeDefined();
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({ status: 503 });
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({ status: 503 });
    await expect(client.chat.completions.create(ask)).resolves.toBeDefined();
    fake.setDefaultBehaviour({ text: 'always this' });
    const res = await client.chat.completions.create(ask);
    expect(res.choices[0].message.content).toBe('always this');
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect((await client.chat.completions.create(ask)).choices[0].message.content).toBe('Echo: one two three four');
  });

  it('sends garbage that the client cannot parse, as JSON and as SSE', async () => {
    fake.enqueue({ garbage: true }, { garbage: 'data that is not json' });
    await expect(client.chat.completions.create(ask)).rejects.toThrow();
    const stream = await client.chat.completions.create(askStream);
    await expect(drain(stream)).rejects.toThrow();
  });

  it('delays the answer by delayMs', async () => {
    fake.enqueue({ delayMs: 150 });
    const started = Date.now();
    await client.chat.completions.create(ask);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('hangs until the client times out, recording the abort', async () => {
    fake.enqueue({ hang: true });
    await expect(client.chat.completions.create(ask, { timeout: 200 })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    const seen = await fake.waitForRequest((r) => r.aborted, 2_000);
    expect(seen.finished).toBe(false);
  });

  it('records aborted: true when the client aborts mid-stream', async () => {
    fake.enqueue({ chunkDelayMs: 100 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(askStream, { signal: controller.signal });
    // The SDK ends the iteration quietly when its own signal aborts.
    await expect(drain(stream, () => controller.abort())).resolves.toBe(1);
    const seen = await fake.waitForRequest((r) => r.aborted, 2_000);
    expect(seen).toMatchObject({ aborted: true, finished: false, status: 200 });
  });

  it('spaces stream chunks by chunkDelayMs', async () => {
    fake.enqueue({ chunkDelayMs: 30 });
    const started = Date.now();
    const chunks = await drain(await client.chat.completions.create(askStream));
    expect(chunks).toBeGreaterThanOrEqual(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30 * (chunks - 1) - 10);
  });

  it('drops a stream after n chunks so the client sees an error', async () => {
    fake.enqueue({ dropStreamAfter: 2 });
    let received = 0;
    const stream = await client.chat.completions.create(askStream);
    await expect(drain(stream, () => (received += 1))).rejects.toThrow();
    expect(received).toBe(2);
    fake.enqueue({ dropStreamAfter: 0 });
    await expect(client.chat.completions.create(ask)).rejects.toThrow();
    expect(fake.lastRequest?.aborted).toBe(false);
  });

  it('sends an in-stream error event that the SDK raises as APIError', async () => {
    fake.enqueue({ streamErrorAfter: 2 });
    const stream = await client.chat.completions.create(askStream);
    await expect(drain(stream)).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it('answers unknown routes and bad JSON in the OpenAI error envelope', async () => {
    const missing = await fetch(`${fake.baseURL}/nope`, { headers: { authorization: 'Bearer x' } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'not_found' } });
    const bad = await fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(fake.lastRequest).toMatchObject({ body: undefined, rawBody: '{nope' });
    const anonymous = await fetch(`${fake.baseURL}/models`);
    expect(anonymous.status).toBe(401);
  });

  it('waits for future requests and times out with what it saw', async () => {
    const waiting = fake.waitForRequest((r) => r.path.endsWith('/embeddings'), 2_000);
    await client.embeddings.create({ model: 'e', input: 'later' });
    await expect(waiting).resolves.toMatchObject({ body: { input: 'later' } });
    await expect(fake.waitForRequest((r) => r.method === 'DELETE', 50)).rejects.toThrow(/received: POST/);
  });

  it('cuts a hanging request when closed, and can start again', async () => {
    const other = new FakeOpenAIServer({ defaultBehaviour: { hang: true } });
    const otherClient = new OpenAI({ baseURL: await other.start(), apiKey: 'k', maxRetries: 0 });
    const pending = otherClient.chat.completions.create(ask);
    await other.waitForRequest();
    await other.close();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(other.requests[0].aborted).toBe(false);
    other.setDefaultBehaviour({});
    const again = new OpenAI({ baseURL: await other.start(), apiKey: 'k', maxRetries: 0 });
    await expect(again.chat.completions.create(ask)).resolves.toBeDefined();
    await other.close();
  });
});

describe('FakeOllamaServer', () => {
  const fake = new FakeOllamaServer();
  let client: OpenAI;

  beforeAll(async () => {
    client = new OpenAI({ baseURL: await fake.start(), apiKey: 'ollama', maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it('serves /api/tags, /api/version and the root banner', async () => {
    const tags = (await (await fetch(`${fake.origin}/api/tags`)).json()) as { models: Array<Record<string, unknown>> };
    expect(tags.models[0]).toMatchObject({ name: 'llama3:8b', model: 'llama3:8b', details: { parameter_size: '8B' } });
    expect(await (await fetch(`${fake.origin}/api/version`)).json()).toEqual({ version: '0.5.7' });
    expect(await (await fetch(fake.origin)).text()).toBe('Ollama is running');
  });

  it('serves the OpenAI-compatible API without a key', async () => {
    const res = await client.chat.completions.create({
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0].message.content).toBe('Echo: hi');
    const stream = await client.chat.completions.create({
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(await drain(stream)).toBeGreaterThan(2);
    const emb = await client.embeddings.create({ model: 'nomic-embed-text', input: 'x', encoding_format: 'float' });
    expect(emb.data[0].embedding).toHaveLength(8);
    const anonymous = await fetch(`${fake.baseURL}/models`);
    expect(await anonymous.json()).toMatchObject({ data: [{ id: 'llama3:8b', owned_by: 'library' }, {}] });
  });

  it("answers as Ollama's model does, never seeing tool_choice, parallel_tool_calls, n or max_completion_tokens", async () => {
    const tool = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } });
    const res = await client.chat.completions.create({
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'call tool a_tool and b_tool, one two three four five six' }],
      tools: [tool('a_tool'), tool('b_tool')],
      tool_choice: { type: 'function', function: { name: 'b_tool' } },
      parallel_tool_calls: false,
      n: 2,
    });
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0].message.tool_calls?.map((c) => c.type === 'function' && c.function.name)).toEqual([
      'a_tool',
      'b_tool',
    ]);
    const long = await client.chat.completions.create({
      model: 'llama3:8b',
      messages: [{ role: 'user', content: 'one two three four five six seven eight' }],
      max_completion_tokens: 2,
    });
    expect(long.choices[0].finish_reason).toBe('stop');
  });

  it('refuses what Ollama refuses: token ids to embed, a legacy prompt that is not one string', async () => {
    const batch = await client.embeddings.create({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(batch.data).toHaveLength(2);
    for (const input of [
      [1, 2],
      [[1], [2]],
    ]) {
      await expect(client.embeddings.create({ model: 'nomic-embed-text', input })).rejects.toMatchObject({
        status: 400,
        error: { message: 'invalid input type', type: 'api_error' },
      });
    }
    for (const prompt of [['a'], [1, 2]]) {
      await expect(client.completions.create({ model: 'llama3:8b', prompt })).rejects.toMatchObject({
        status: 400,
        error: { message: expect.stringContaining('cannot unmarshal array'), type: 'invalid_request_error' },
      });
    }
  });
});

/** Reads a stream to the end, calling `onChunk` per chunk; resolves with the chunk count. */
async function drain(stream: AsyncIterable<unknown>, onChunk?: () => void): Promise<number> {
  let count = 0;
  for await (const _chunk of stream) {
    count += 1;
    onChunk?.();
  }
  return count;
}
