import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropicServer, FakeOpenAIServer } from '@app/testing';
import { UsageWriter } from '@app/usage';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, unique } from '../support/tenancy';

/** What reached a fake besides model discovery. */
const generations = (fake: FakeOpenAIServer | FakeAnthropicServer) => fake.requests.filter((r) => r.method === 'POST');
const isPost = (request: { method: string }) => request.method === 'POST';

/**
 * Resilience of streams and their edges, end to end: failures after the first
 * chunk, retry-after on every retried status. The circuit's cooldown is long
 * (a minute), so nothing here depends on how fast the machine is.
 */
describe('gateway resilience: streams and edges', () => {
  const upstream = new FakeOpenAIServer();
  const anthropicUpstream = new FakeAnthropicServer();
  let platform: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    await Promise.all([upstream.start(), anthropicUpstream.start()]);
    platform = await startPlatform({
      env: { CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_COOLDOWN_MS: '60000', UPSTREAM_MAX_RETRIES: '2' },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([upstream.close(), anthropicUpstream.close()]);
  });
  beforeEach(() => {
    upstream.reset();
    anthropicUpstream.reset();
  });

  /** A provider of its own on the fake, so each test starts with a closed circuit. */
  const provider = async (
    settings: { timeoutMs?: number; kind?: 'anthropic'; baseUrl?: string } = {},
  ): Promise<string> => {
    const name = unique('up');
    const res = await adminApi(platform).post('/api/providers', {
      name,
      kind: 'openai-compatible',
      baseUrl: upstream.baseURL,
      apiKey: 'k',
      ...settings,
    });
    expect(res.status).toBe(201);
    return name;
  };

  const circuit = async (name: string): Promise<string | undefined> => {
    const res = await call(`${platform.gatewayUrl}/v1/providers`, { token: TEST_MASTER_KEY });
    return (res.body.data as Array<{ name: string; circuit: string }>).find((p) => p.name === name)?.circuit;
  };

  /** The SSE frames of a streamed chat completion, read to the end. */
  const streamFrames = async (model: string): Promise<string[]> => {
    const res = await call<string>(`${platform.gatewayUrl}/v1/chat/completions`, {
      token: TEST_MASTER_KEY,
      body: { model, stream: true, messages: [{ role: 'user', content: 'a long answer please' }] },
    });
    expect(res.status).toBe(200);
    return res.body.trim().split('\n\n');
  };

  it('counts streams that fail after their first chunk against the provider’s circuit', async () => {
    const name = await provider();
    upstream.enqueue({ match: isPost, streamErrorAfter: 1, times: 2 }, { match: isPost, dropStreamAfter: 1 });
    for (let i = 0; i < 3; i++) {
      const frames = await streamFrames(`${name}/m`);
      expect(frames.at(-1)).toBe('data: [DONE]');
      expect(JSON.parse(frames.at(-2)!.slice(6))).toMatchObject({ error: { code: expect.any(String) } });
    }
    expect(generations(upstream)).toHaveLength(3);
    // Three failures in a row open the circuit, as three failed JSON calls would.
    expect(await circuit(name)).toBe('open');
    await expect(
      client.chat.completions.create({ model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 503, code: 'no_provider_available' });
    expect(generations(upstream)).toHaveLength(3);
  });

  it('ends a stream the upstream closes in the middle of an event with a final error event, not as an answer', async () => {
    const name = await provider();
    upstream.enqueue({ match: isPost, cutStreamAfter: 2 });
    const frames = await streamFrames(`${name}/m`);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(frames.at(-2)!.slice(6))).toMatchObject({
      error: { code: 'upstream_error', message: expect.stringContaining('in the middle of an event') },
    });
    // The two whole events went through before it.
    expect(frames.slice(0, -2).map((frame) => JSON.parse(frame.slice(6)).object)).toEqual([
      'chat.completion.chunk',
      'chat.completion.chunk',
    ]);
  });

  it('keeps a stream whose upstream sends only comments while its model thinks, past the timeout', async () => {
    const name = await provider({ timeoutMs: 300 });
    upstream.enqueue({ match: isPost, commentsFirst: { forMs: 1_200, everyMs: 100 } });
    const stream = await client.chat.completions.create({
      model: `${name}/m`,
      stream: true,
      messages: [{ role: 'user', content: 'think first' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('think first');
    expect(generations(upstream)).toHaveLength(1);
    // Silence is still cut: nothing for longer than the timeout, on every attempt.
    upstream.enqueue({ match: isPost, delayMs: 1_000, times: 3 });
    const res = await call<string>(`${platform.gatewayUrl}/v1/chat/completions`, {
      token: TEST_MASTER_KEY,
      body: { model: `${name}/m`, stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(res.status).toBe(504);
  });

  it('waits for the retry-after of a 503 before retrying, and moves on at once when it is too long', async () => {
    const name = await provider();
    upstream.enqueue({ match: isPost, status: 503, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const answer = await client.chat.completions
      .create({ model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(answer.response.status).toBe(200);
    expect(generations(upstream)).toHaveLength(2);

    upstream.reset();
    const other = await provider();
    const alias = unique('overloaded');
    await adminApi(platform).post('/api/routes', {
      alias,
      strategy: 'fallback',
      targets: [
        { provider: name, model: 'a' },
        { provider: other, model: 'b' },
      ],
    });
    upstream.enqueue({ match: isPost, status: 503, headers: { 'retry-after': '3600' } });
    const { response } = await client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe(other);
    // Not retried an hour later, nor at once against its word: the next target answered.
    expect(generations(upstream).map((r) => (r.body as { model: string }).model)).toEqual(['a', 'b']);
  });

  it('stops at once when the client leaves during a retry’s wait, recording who was being retried', async () => {
    const name = await provider();
    upstream.enqueue({ match: isPost, status: 429, headers: { 'retry-after': '2' } });
    const requestId = unique('left-while-waiting');
    const controller = new AbortController();
    const asked = fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${TEST_MASTER_KEY}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({ model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] }),
    }).catch((error: Error) => error.name);
    await upstream.waitForRequest((r) => isPost(r) && r.status === 429);
    controller.abort();
    expect(await asked).toBe('AbortError');
    // Past the retry-after: the retry was never sent.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(generations(upstream)).toHaveLength(1);

    await platform.gateway!.app.get(UsageWriter).flush();
    const records = await adminApi(platform).get(`/api/usage/records?requestId=${requestId}`);
    expect(records.body.data).toEqual([
      expect.objectContaining({ provider: name, status: 499, errorCode: 'client_closed', retryCount: 1 }),
    ]);
  });

  it('does not open the circuit of a provider that rate-limits: the client gets its 429, the next request goes through', async () => {
    const name = await provider();
    upstream.enqueue({ match: isPost, status: 429, headers: { 'retry-after': '0' }, times: 3 });
    await expect(
      client.chat.completions.create({ model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(generations(upstream)).toHaveLength(3);
    expect(await circuit(name)).toBe('closed');
    const answer = await client.chat.completions.create({
      model: `${name}/m`,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.choices[0].message.content).toBeTruthy();
  });

  it('answers a vLLM-style in-stream error with the status its code gives, neither retried nor counted', async () => {
    const name = await provider();
    // vLLM's first event when the request cannot be served: an HTTP status in `code`, its exception's name in `type`.
    const error = {
      object: 'error',
      message: "This model's maximum context length is 4096 tokens.",
      type: 'BadRequestError',
      param: null,
      code: 400,
    };
    upstream.enqueue({ match: isPost, streamErrorAfter: 0, body: { error }, times: 3 });
    const failure = await client.chat.completions
      .create({ model: `${name}/m`, stream: true, messages: [{ role: 'user', content: 'too long' }] })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ status: 400, message: expect.stringContaining('maximum context length') });
    expect(generations(upstream)).toHaveLength(1);
    expect(await circuit(name)).toBe('closed');
  });

  it('keeps the circuit closed for streams that end well, and for clients that leave mid-stream', async () => {
    const name = await provider();
    for (let i = 0; i < 3; i++) expect((await streamFrames(`${name}/m`)).at(-1)).toBe('data: [DONE]');
    upstream.enqueue({ match: isPost, chunkDelayMs: 200, times: 3 });
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const stream = await client.chat.completions.create(
        { model: `${name}/m`, stream: true, messages: [{ role: 'user', content: 'one two three four five' }] },
        { signal: controller.signal },
      );
      for await (const _chunk of stream) {
        controller.abort();
        break;
      }
      const aborted = () => generations(upstream).filter((r) => r.aborted).length;
      await upstream.waitForRequest(() => aborted() === i + 1);
    }
    expect(await circuit(name)).toBe('closed');
  });

  it('an Anthropic answer cut short mid-body is a 502 after its retries, on every path (it was a connection error)', async () => {
    // A provider for each path: three failures open a circuit.
    const claude = async (): Promise<string> =>
      `${await provider({ kind: 'anthropic', baseUrl: anthropicUpstream.baseURL })}/claude-sonnet-4-5`;
    const cut = 'closed the connection before its answer was complete';

    // Chat completions, JSON: half the body, then the socket is destroyed; retried twice, then the error.
    anthropicUpstream.enqueue({ match: isPost, dropStreamAfter: 0, times: 3 });
    const failure = await client.chat.completions
      .create({ model: await claude(), messages: [{ role: 'user', content: 'hi' }] })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ status: 502, code: 'upstream_error', message: expect.stringContaining(cut) });
    expect(generations(anthropicUpstream)).toHaveLength(3);

    // The Messages API as Anthropic's SDK calls it.
    const anthropic = new Anthropic({ baseURL: platform.gatewayUrl, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    anthropicUpstream.enqueue({ match: isPost, dropStreamAfter: 0, times: 3 });
    const native = await anthropic.messages
      .create({ model: await claude(), max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .catch((err: unknown) => err);
    expect(native).toMatchObject({ status: 502, message: expect.stringContaining(cut) });
    expect(generations(anthropicUpstream)).toHaveLength(6);

    // A stream cut after its first events ends with the error event, as an OpenAI-shaped one does.
    anthropicUpstream.enqueue({ match: isPost, dropStreamAfter: 3 });
    const frames = await streamFrames(await claude());
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(frames.at(-2)!.slice(6))).toMatchObject({
      error: { code: 'upstream_error', message: expect.stringContaining(cut) },
    });
  });
});
