import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call } from '../support/tenancy';

const isPost = (request: { method: string }) => request.method === 'POST';
const hi = [{ role: 'user' as const, content: 'hi' }];

/** An `azure-openai` provider end to end: the deployment in the path, whatever the client names. */
describe('gateway over Azure OpenAI', () => {
  const azure = new FakeOpenAIServer({ apiKey: 'azure-secret-key' });
  /** A deployment behind Azure's asynchronous content filter: its streams carry annotation chunks. */
  const filtered = new FakeOpenAIServer({ apiKey: 'azure-secret-key', asyncContentFilter: true });
  /** Azure's v1 API: OpenAI's paths under /openai/v1, the deployment as the body's model, no api-version. */
  const v1 = new FakeOpenAIServer({ apiKey: 'azure-v1-key', basePath: '/openai/v1' });
  /** A resource that takes Microsoft Entra ID tokens (`Authorization: Bearer`). */
  const entra = new FakeOpenAIServer({ apiKey: 'entra-token-123' });
  let platform: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    await Promise.all([azure.start(), filtered.start(), v1.start(), entra.start()]);
    platform = await startPlatform({ env: { CIRCUIT_FAILURE_THRESHOLD: '3', UPSTREAM_MAX_RETRIES: '0' } });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    for (const [name, server, options] of [
      ['az', azure, undefined],
      ['az-filtered', filtered, undefined],
      ['az-2024-06', azure, { apiVersion: '2024-06-01' }],
    ] as const) {
      const created = await adminApi(platform).post('/api/providers', {
        name,
        kind: 'azure-openai',
        baseUrl: server.origin,
        apiKey: 'azure-secret-key',
        ...(options ? { options } : {}),
      });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([azure.close(), filtered.close(), v1.close(), entra.close()]);
  });
  beforeEach(() => azure.reset());

  const circuit = async (): Promise<string | undefined> => {
    const res = await call(`${platform.gatewayUrl}/v1/providers`, { token: TEST_MASTER_KEY });
    return (res.body.data as Array<{ name: string; circuit: string }>).find((p) => p.name === 'az')?.circuit;
  };

  it('puts the model name in the path as one encoded segment: no other path or query of the upstream is reachable', async () => {
    const names = ['../../../admin/secret#', 'x?api-version=2099-01-01&', 'x/extra', 'a b', '%2e%2e'];
    for (const name of names) await client.chat.completions.create({ model: `az/${name}`, messages: hi });
    const seen = azure.requests
      .filter(isPost)
      .map((r) => ({ path: r.path, query: r.query, key: r.headers['api-key'] }));
    expect(seen).toHaveLength(names.length);
    for (const [i, request] of seen.entries()) {
      expect(request.path).toBe(`/openai/deployments/${encodeURIComponent(names[i])}/chat/completions`);
      expect(request.query).toEqual({ 'api-version': expect.any(String) });
      expect(request.query['api-version']).not.toBe('2099-01-01');
    }
    // A name of dots alone is a step up the path to any URL parser: refused.
    for (const name of ['.', '..']) {
      await expect(client.chat.completions.create({ model: `az/${name}`, messages: hi })).rejects.toMatchObject({
        status: 400,
        param: 'model',
      });
    }
    expect(azure.requests.filter(isPost)).toHaveLength(names.length);
  });

  it('never opens the circuit for a model name undici could not have sent (it was a connection error)', async () => {
    for (let i = 0; i < 4; i++) {
      const answer = await client.chat.completions.create({ model: 'az/a b\u00e9', messages: hi });
      expect(answer.choices[0].message.content).toBeTruthy();
    }
    expect(await circuit()).toBe('closed');
  });

  it("passes on the innererror of a content-filter refusal (which filter fired), scrubbed of the provider's key", async () => {
    const innererror = {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: {
        hate: { filtered: false, severity: 'safe' },
        violence: { filtered: true, severity: 'medium' },
        jailbreak: { filtered: false, detected: false },
      },
      detail: 'seen with api-key azure-secret-key',
    };
    azure.enqueue({
      status: 400,
      body: {
        error: {
          message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror,
        },
      },
    });
    const refused = await client.chat.completions.create({ model: 'az/gpt-4o', messages: hi }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.code).toBe('content_filter');
    expect(refused.param).toBe('prompt');
    expect(refused.error.innererror).toEqual({ ...innererror, detail: 'seen with api-key [redacted]' });
    // Errors of the gateway's own, and of other providers, have no such field.
    const own = await client.chat.completions.create({ model: 'az/..', messages: hi }).catch((e) => e);
    expect(own.error).not.toHaveProperty('innererror');
  });

  it('asks for stream usage only where the api-version takes stream_options (2024-09-01 on), estimating it elsewhere', async () => {
    const streamed = async (model: string) => {
      const stream = await client.chat.completions.create({
        model,
        messages: hi,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return {
        usage: chunks.at(-1)?.usage,
        sent: azure.requests.filter(isPost).at(-1)?.body as Record<string, unknown>,
      };
    };
    const current = await streamed('az/gpt-4o');
    expect(current.sent.stream_options).toEqual({ include_usage: true });
    expect(current.usage?.prompt_tokens).toBeGreaterThan(0);
    const older = await streamed('az-2024-06/gpt-4o');
    expect(azure.requests.filter(isPost).at(-1)?.query['api-version']).toBe('2024-06-01');
    // That version refuses stream_options (400 "Unrecognized request argument"), the client's too: the usage is the estimate.
    expect(older.sent).not.toHaveProperty('stream_options');
    expect(older.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it("serves Azure's v1 API (…/openai/v1: OpenAI's paths, the deployment as model, no api-version) and refuses a deployment's URL", async () => {
    const api = adminApi(platform);
    const created = await api.post('/api/providers', {
      name: 'az-v1',
      kind: 'azure-openai',
      baseUrl: `${v1.origin}/openai/v1`,
      apiKey: 'azure-v1-key',
      options: { deployments: { 'gpt-4o': 'my-gpt4o-deployment' } },
    });
    expect(created.status).toBe(201);
    const answer = await client.chat.completions.create({ model: 'az-v1/gpt-4o', messages: hi });
    expect(answer.choices[0].message.content).toBeTruthy();
    const streamed = await client.chat.completions.create({ model: 'az-v1/gpt-4o', messages: hi, stream: true });
    for await (const _chunk of streamed) void _chunk;
    const embedded = await client.embeddings.create({ model: 'az-v1/text-embedding-3-small', input: 'x' });
    expect(embedded.data).toHaveLength(1);
    const posts = v1.requests.filter(isPost);
    expect(posts.map((r) => [r.path, r.query['api-version'], (r.body as { model: string }).model])).toEqual([
      ['/openai/v1/chat/completions', undefined, 'my-gpt4o-deployment'],
      ['/openai/v1/chat/completions', undefined, 'my-gpt4o-deployment'],
      ['/openai/v1/embeddings', undefined, 'text-embedding-3-small'],
    ]);
    expect(posts[0].headers['api-key']).toBe('azure-v1-key');
    expect(posts[1].body).toMatchObject({ stream_options: { include_usage: true } });

    const deploymentUrl = await api.post('/api/providers', {
      name: 'az-deployment-url',
      kind: 'azure-openai',
      baseUrl: `${v1.origin}/openai/deployments/gpt-4o`,
      apiKey: 'k',
    });
    expect(deploymentUrl.status).toBe(400);
    expect(deploymentUrl.body.error).toMatchObject({
      param: 'baseUrl',
      message: expect.stringContaining('deployment'),
    });
  });

  it('takes a Microsoft Entra ID token (Authorization: Bearer header) in place of the key', async () => {
    const created = await adminApi(platform).post('/api/providers', {
      name: 'az-entra',
      kind: 'azure-openai',
      baseUrl: entra.origin,
      options: { headers: { Authorization: 'Bearer entra-token-123' } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('entra-token-123');
    const answer = await client.chat.completions.create({ model: 'az-entra/gpt-4o', messages: hi });
    expect(answer.choices[0].message.content).toBeTruthy();
    const sent = entra.requests.filter(isPost).at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer entra-token-123');
    expect(sent.headers['api-key']).toBeUndefined();
    expect(sent.path).toBe('/openai/deployments/gpt-4o/chat/completions');
    // Without key or token it is refused, naming the key.
    const bare = await adminApi(platform).post('/api/providers', {
      name: 'az-bare',
      kind: 'azure-openai',
      baseUrl: entra.origin,
    });
    expect(bare.status).toBe(400);
    expect(bare.body.error.param).toBe('apiKey');
  });

  describe("streams annotated by Azure's asynchronous content filter", () => {
    const model = 'az-filtered/gpt-4o';
    const content = 'say three words';

    it("reach the openai SDK's stream helper whole: each annotation with an empty delta and the stream's id and model", async () => {
      const raw = await client.chat.completions.create({ model, messages: [{ role: 'user', content }], stream: true });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of raw) chunks.push(chunk);
      const annotations = chunks.filter((c) => c.choices.some((choice) => 'content_filter_results' in choice));
      expect(annotations.length).toBeGreaterThan(1);
      const id = chunks[0].id;
      expect(id).toMatch(/^chatcmpl-/);
      for (const chunk of chunks) {
        expect(chunk).toMatchObject({ id, model: chunks[0].model, object: 'chat.completion.chunk' });
        expect(chunk.created).toBe(chunks[0].created);
        for (const choice of chunk.choices) expect(choice.delta).toBeTypeOf('object');
      }
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

      // The helper assembles the answer from every chunk (it threw on a choice without delta).
      const final = await client.chat.completions
        .stream({ model, messages: [{ role: 'user', content }] })
        .finalChatCompletion();
      expect(final.id).toMatch(/^chatcmpl-/);
      expect(final.model).toBeTruthy();
      expect(final.choices).toHaveLength(1);
      expect(final.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: text } });
    });

    it('reach an Anthropic SDK client of /v1/messages as text (the stream failed at the first annotation)', async () => {
      const anthropic = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
      const message = await anthropic.messages
        .stream({ model, max_tokens: 64, messages: [{ role: 'user', content }] })
        .finalMessage();
      expect(message.stop_reason).toBe('end_turn');
      const [block] = message.content;
      expect(block.type).toBe('text');
      expect(block.type === 'text' && block.text.length).toBeGreaterThan(0);
    });

    it('reach a legacy completions stream with an empty text in each annotation', async () => {
      const stream = await client.completions.create({ model, prompt: 'say three words', stream: true });
      const texts: unknown[] = [];
      for await (const chunk of stream) {
        expect(chunk.id).toMatch(/^cmpl-/);
        expect(chunk.object).toBe('text_completion');
        texts.push(...chunk.choices.map((choice) => choice.text));
      }
      expect(texts.length).toBeGreaterThan(2);
      for (const text of texts) expect(text).toBeTypeOf('string');
      expect(texts.join('')).not.toContain('undefined');
    });
  });
});
