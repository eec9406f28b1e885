import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedText, FakeOllamaServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, usageRecord } from '../support/tenancy';

const OPENAI_KEY = 'sk-upstream-openai-embeddings';

/** `POST /v1/embeddings` through the gateway, called with the official `openai` SDK and raw HTTP. */
describe('gateway embeddings', () => {
  const openai = new FakeOpenAIServer({ apiKey: OPENAI_KEY });
  /** An Ollama that answers float arrays whatever `encoding_format` asks for, no usage, and ignores `dimensions`. */
  const ollama = new FakeOllamaServer({ ignoreEncodingFormat: true, omitEmbeddingUsage: true, ignoreDimensions: true });
  let platform: TestPlatform;
  let sdk: OpenAI;
  const gateway = (path: string, body: unknown) =>
    call(`${platform.gatewayUrl}${path}`, { token: TEST_MASTER_KEY, body });

  beforeAll(async () => {
    await Promise.all([openai.start(), ollama.start()]);
    platform = await startPlatform({
      env: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.baseURL, OLLAMA_HOST: ollama.origin },
    });
    sdk = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([openai.close(), ollama.close()]);
  });

  const expectVector = (actual: ArrayLike<number>, expected: number[]) => {
    expect(actual).toHaveLength(expected.length);
    expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 5));
  };

  it("gives the SDK its default base64 even from a server that answers floats, and floats when they're asked for", async () => {
    const model = 'ollama/nomic-embed-text:latest';
    // The SDK asks for base64 unless told otherwise, and decodes what comes back as float32.
    const implicit = await sdk.embeddings.create({ model, input: ['hello world', 'second input'] });
    expect(ollama.lastRequest?.body).toMatchObject({ encoding_format: 'base64' });
    expectVector(implicit.data[0].embedding, embedText('hello world', 8));
    expectVector(implicit.data[1].embedding, embedText('second input', 8));

    const raw = await gateway('/v1/embeddings', { model, input: 'hello world', encoding_format: 'base64' });
    expect(raw.status).toBe(200);
    expect(typeof raw.body.data[0].embedding).toBe('string');

    const floats = await sdk.embeddings.create({ model, input: 'hello world', encoding_format: 'float' });
    expect(floats.data[0].embedding).toEqual(embedText('hello world', 8));

    // The other way round: a server that answers base64 to a request for floats.
    const vector = [1, -0.5, 0.25];
    openai.enqueue({
      status: 200,
      body: {
        object: 'list',
        data: [
          { object: 'embedding', index: 0, embedding: Buffer.from(new Float32Array(vector).buffer).toString('base64') },
        ],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 1, total_tokens: 1 },
      },
    });
    const decoded = await gateway('/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'x' });
    expect(decoded.body.data[0].embedding).toEqual(vector);
  });

  const usageRow = (requestId: string) => usageRecord(platform, requestId);

  it('records the prompt tokens and cost of an embedding, estimated when the server reports no usage', async () => {
    const model = 'openai/text-embedding-3-small';
    const input = 'hello there world '.repeat(100); // 1,800 characters: ~450 tokens
    await sdk.embeddings.create({ model, input }, { headers: { 'x-request-id': 'embeddings-usage-reported' } });
    expect(await usageRow('embeddings-usage-reported')).toMatchObject({
      endpoint: 'embeddings',
      promptTokens: 450, // the fake counts 4 characters a token too
      completionTokens: 0,
      costUsd: 0.000009, // $0.02 per million
    });

    /** One vector, with `usage` as given (left out when undefined). */
    const answerWith = (usage?: unknown) =>
      openai.enqueue({
        status: 200,
        body: {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.5] }],
          model: 'text-embedding-3-small',
          ...(usage === undefined ? {} : { usage }),
        },
      });
    answerWith();
    await sdk.embeddings.create({ model, input }, { headers: { 'x-request-id': 'embeddings-usage-missing' } });
    expect(await usageRow('embeddings-usage-missing')).toMatchObject({
      endpoint: 'embeddings',
      promptTokens: 450,
      costUsd: 0.000009,
    });
    // A server that counts nothing (LM Studio's zeros), or counts as text or below zero, is estimated too.
    for (const [tag, count] of [
      ['zero', 0],
      ['text', '12'],
      ['negative', -5],
    ] as const) {
      answerWith({ prompt_tokens: count, total_tokens: count });
      await sdk.embeddings.create({ model, input }, { headers: { 'x-request-id': `embeddings-usage-${tag}` } });
      expect(await usageRow(`embeddings-usage-${tag}`)).toMatchObject({ promptTokens: 450, costUsd: 0.000009 });
    }
    await sdk.embeddings.create(
      { model: 'ollama/nomic-embed-text:latest', input },
      { headers: { 'x-request-id': 'embeddings-usage-ollama' } },
    );
    expect(await usageRow('embeddings-usage-ollama')).toMatchObject({ promptTokens: 450, costUsd: 0 });
  });

  it('refuses vectors of another size than the dimensions asked for with a 400 naming them', async () => {
    const shortened = await sdk.embeddings.create({
      model: 'openai/text-embedding-3-small',
      input: 'x',
      dimensions: 4,
    });
    expect(shortened.data[0].embedding).toHaveLength(4);

    for (const encoding_format of ['float', 'base64'] as const) {
      const res = await gateway('/v1/embeddings', {
        model: 'ollama/nomic-embed-text:latest',
        input: 'x',
        dimensions: 4,
        encoding_format,
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        type: 'invalid_request_error',
        param: 'dimensions',
        message: expect.stringMatching(/8-dimensional.*4/),
      });
    }
  });

  it('answers 502 for an embedding item without a vector, not a 200 the SDK cannot read', async () => {
    openai.enqueue({ status: 200, body: { object: 'list', data: [{ object: 'embedding', index: 0 }], model: 'm' } });
    const res = await gateway('/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'x' });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'upstream_error', message: expect.stringMatching(/data\[0\]/) });
  });

  it('passes over a route target whose provider serves no embeddings', async () => {
    const name = `chat-only-${Date.now()}`;
    // Never called: the provider kind has no embeddings, which is known before any call.
    expect(
      (
        await adminApi(platform).post('/api/providers', {
          name,
          kind: 'anthropic',
          baseUrl: 'http://127.0.0.1:9',
          apiKey: 'k',
        })
      ).status,
    ).toBe(201);
    const alias = `embed-route-${Date.now()}`;
    const route = await adminApi(platform).post('/api/routes', {
      alias,
      strategy: 'fallback',
      targets: [
        { provider: name, model: 'claude-x' },
        { provider: 'openai', model: 'text-embedding-3-small' },
      ],
    });
    expect(route.status).toBe(201);
    const { data, response } = await sdk.embeddings
      .create({ model: alias, input: 'hello world', encoding_format: 'float' })
      .withResponse();
    expect(data.data[0].embedding.length).toBeGreaterThan(0);
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
  });
});
