import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { call } from '../support/tenancy';

/** What reached a fake besides model discovery. */
const generations = (fake: FakeOpenAIServer) => fake.requests.filter((r) => r.method === 'POST');
/** Scripted failures must hit generations, not the background model discovery. */
const isPost = (request: { method: string }) => request.method === 'POST';
const user = [{ role: 'user' as const, content: 'ping' }];

/** Retries, fallbacks, circuit breakers, timeouts and aborts, end to end through the official SDK. */
describe('gateway resilience', () => {
  const primary = new FakeOpenAIServer();
  const secondary = new FakeOpenAIServer();
  let platform: TestPlatform;
  let client: OpenAI;

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${platform.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    await Promise.all([primary.start(), secondary.start()]);
    platform = await startPlatform({
      env: { CIRCUIT_FAILURE_THRESHOLD: '5', CIRCUIT_COOLDOWN_MS: '1000', UPSTREAM_MAX_RETRIES: '2' },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    await admin('POST', '/api/providers', {
      name: 'primary',
      kind: 'openai-compatible',
      baseUrl: primary.baseURL,
      apiKey: 'k1',
    });
    await admin('POST', '/api/providers', {
      name: 'secondary',
      kind: 'openai-compatible',
      baseUrl: secondary.baseURL,
      apiKey: 'k2',
    });
    await admin('POST', '/api/providers', {
      name: 'slow',
      kind: 'openai-compatible',
      baseUrl: primary.baseURL,
      apiKey: 'k3',
      timeoutMs: 300,
    });
    await admin('POST', '/api/providers', {
      name: 'flaky',
      kind: 'openai-compatible',
      baseUrl: primary.baseURL,
      apiKey: 'k4',
    });
    await admin('POST', '/api/routes', {
      alias: 'flaky-route',
      strategy: 'fallback',
      targets: [
        { provider: 'flaky', model: 'model-a' },
        { provider: 'secondary', model: 'model-b' },
      ],
    });
    await admin('POST', '/api/providers', {
      name: 'down',
      kind: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:9/v1',
    });
    await admin('POST', '/api/providers', {
      name: 'no-tools',
      kind: 'openai-compatible',
      baseUrl: secondary.baseURL,
      apiKey: 'k5',
      options: { nativeTools: false, nativeJsonSchema: false },
    });
    await admin('POST', '/api/routes', {
      alias: 'resilient',
      strategy: 'fallback',
      targets: [
        { provider: 'primary', model: 'model-a' },
        { provider: 'secondary', model: 'model-b' },
      ],
    });
    await admin('POST', '/api/routes', {
      alias: 'impatient',
      strategy: 'fallback',
      targets: [
        { provider: 'primary', model: 'model-a', timeoutMs: 300 },
        { provider: 'secondary', model: 'model-b' },
      ],
    });
    // The mock has no token probabilities: a request for them is one it cannot serve.
    await admin('POST', '/api/providers', { name: 'no-logprobs', kind: 'mock' });
    await admin('POST', '/api/routes', {
      alias: 'capable',
      strategy: 'round-robin',
      targets: [
        { provider: 'no-logprobs', model: 'echo-1' },
        { provider: 'secondary', model: 'model-b' },
      ],
    });
    await admin('POST', '/api/routes', {
      alias: 'nowhere',
      strategy: 'fallback',
      targets: [{ provider: 'down', model: 'x' }],
    });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([primary.close(), secondary.close()]);
  });
  beforeEach(() => {
    primary.reset();
    secondary.reset();
  });

  /** The provider's circuit as `/v1/providers` and `/v1/status` report it. */
  const providerState = async (name: string) => {
    const get = async (path: string) =>
      (await (
        await fetch(`${platform.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })
      ).json()) as {
        data?: Array<{ name: string; circuit: string }>;
        providers?: Array<{ name: string; state: string; circuit: string }>;
      };
    const listed = (await get('/v1/providers')).data?.find((p) => p.name === name);
    const status = (await get('/v1/status')).providers?.find((p) => p.name === name);
    return { circuit: listed?.circuit, status: status && { state: status.state, circuit: status.circuit } };
  };

  const ask = (model: string) =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'ping' }] }).withResponse();

  it('passes over a target that cannot serve a request to one that can, whichever the round-robin turn', async () => {
    for (let i = 0; i < 4; i++) {
      const { data, response } = await client.chat.completions
        .create({ model: 'capable', messages: [{ role: 'user', content: 'ping' }], logprobs: true })
        .withResponse();
      expect(response.headers.get('x-gateway-provider')).toBe('secondary');
      expect(data.choices[0].message.content).toContain('ping');
    }
    expect(generations(secondary)).toHaveLength(4);
    // Without logprobs both serve it, in turns.
    const served = [];
    for (let i = 0; i < 2; i++) served.push((await ask('capable')).response.headers.get('x-gateway-provider'));
    expect(served.sort()).toEqual(['no-logprobs', 'secondary']);
    expect((await providerState('no-logprobs')).circuit).toBe('closed');
  });

  it('falls back to the next target after repeated 500s and says so in the headers', async () => {
    primary.enqueue({ match: isPost, status: 500, times: 3 });
    const { data, response } = await ask('resilient');
    expect(data.choices[0].message.content).toContain('ping');
    expect(generations(primary)).toHaveLength(3);
    expect(generations(secondary)).toHaveLength(1);
    expect(response.headers.get('x-gateway-provider')).toBe('secondary');
    expect(response.headers.get('x-gateway-model')).toBe('model-b');
    expect(response.headers.get('x-gateway-fallbacks')).toBe('1');
    expect((secondary.lastRequest?.body as { model: string }).model).toBe('model-b');
  });

  it('retries a 429 after the upstream’s retry-after', async () => {
    primary.enqueue({ match: isPost, status: 429, headers: { 'retry-after': '1' } });
    const started = Date.now();
    const { response } = await ask('primary/model-a');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(generations(primary)).toHaveLength(2);
    expect(response.headers.get('x-gateway-fallbacks')).toBe('0');
  });

  it('retries a 429 without retry-after when OpenAI’s rate-limit headers say the spent limit resets', async () => {
    primary.enqueue({
      match: isPost,
      status: 429,
      headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' },
    });
    const started = Date.now();
    const { response } = await ask('primary/model-a');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(generations(primary)).toHaveLength(2);
    expect(response.headers.get('x-gateway-fallbacks')).toBe('0');
  });

  it('passes on at once a 429 whose spent limit resets later than the longest wait, with when to come back', async () => {
    primary.enqueue({
      match: isPost,
      status: 429,
      headers: { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' },
    });
    const started = Date.now();
    const failure = await ask('primary/model-a').catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 429 });
    expect((failure as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('360');
    expect(Date.now() - started).toBeLessThan(900);
    expect(generations(primary)).toHaveLength(1);
  });

  it('opens the circuit of a failing provider, skips it, and closes it after a successful probe', async () => {
    primary.enqueue({ match: isPost, status: 503, times: 5 });
    await expect(ask('flaky/model-a')).rejects.toMatchObject({ status: 502 });
    await expect(ask('flaky/model-a')).rejects.toMatchObject({ status: 502 });
    expect(generations(primary)).toHaveLength(5);

    const { response } = await ask('flaky-route');
    expect(response.headers.get('x-gateway-provider')).toBe('secondary');
    await expect(ask('flaky/model-a')).rejects.toMatchObject({ status: 503, code: 'no_provider_available' });
    expect(generations(primary)).toHaveLength(5);
    expect(await providerState('flaky')).toEqual({ circuit: 'open', status: { state: 'down', circuit: 'open' } });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const probe = await ask('flaky-route');
    expect(probe.response.headers.get('x-gateway-provider')).toBe('flaky');
    expect(generations(primary)).toHaveLength(6);
    expect((await providerState('flaky')).circuit).toBe('closed');
  });

  it('answers 503 when no provider of a route is reachable', async () => {
    await expect(ask('nowhere')).rejects.toMatchObject({ status: 503, code: 'no_provider_available' });
  });

  it('answers 504 when the upstream does not answer in time, without waiting for it again', async () => {
    primary.enqueue({ match: isPost, hang: true, times: 3 });
    await expect(ask('slow/model-a')).rejects.toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(generations(primary)).toHaveLength(1);
  });

  it('moves on to the next target once a target’s own timeout passes, without retrying it', async () => {
    primary.enqueue({ match: isPost, hang: true, times: 3 });
    const started = Date.now();
    const { data, response } = await ask('impatient');
    expect(data.choices[0].message.content).toContain('ping');
    expect(response.headers.get('x-gateway-provider')).toBe('secondary');
    expect(response.headers.get('x-gateway-fallbacks')).toBe('1');
    expect(generations(primary)).toHaveLength(1);
    // One 300 ms wait, not one per retry.
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('answers 502 for an upstream that returns garbage, and stays healthy', async () => {
    primary.enqueue({ match: isPost, garbage: '<html>oops</html>', times: 3 });
    await expect(ask('primary/model-a')).rejects.toMatchObject({ status: 502 });
    expect((await fetch(`${platform.gatewayUrl}/health`)).status).toBe(200);
  });

  it.each([
    ['a choice that is null', '{"id":"c","object":"chat.completion","choices":[null]}', '[null]'],
    ['no choices', '{"id":"c","object":"chat.completion","choices":null}', 'null'],
  ])(
    'an answer that is JSON but not a completion (%s) is a 502 a route falls back from, JSON and streamed',
    async (_name, body, choices) => {
      // A provider and a route of its own: these failures count against no other test's circuit.
      const provider = `malformed-${choices === 'null' ? 'null' : 'items'}`;
      await admin('POST', '/api/providers', { name: provider, kind: 'openai-compatible', baseUrl: primary.baseURL });
      await admin('POST', '/api/routes', {
        alias: `${provider}-route`,
        strategy: 'fallback',
        targets: [
          { provider, model: 'model-a' },
          { provider: 'secondary', model: 'model-b' },
        ],
      });
      primary.enqueue({ match: isPost, garbage: body, times: 2 });
      const direct = await ask(`${provider}/model-a`).catch((e: unknown) => e);
      expect(direct).toMatchObject({ status: 502, code: 'upstream_error' });
      expect((direct as Error).message).toContain('returned an invalid response');
      const { data, response } = await ask(`${provider}-route`);
      expect(data.choices[0].message.content).toContain('ping');
      expect(response.headers.get('x-gateway-provider')).toBe('secondary');

      // Streamed: the first event, before anything reached the client.
      primary.enqueue({ match: isPost, garbage: `{"id":"c","object":"chat.completion.chunk","choices":${choices}}` });
      const stream = await client.chat.completions
        .create({ model: `${provider}-route`, stream: true, messages: user })
        .withResponse();
      expect(stream.response.headers.get('x-gateway-provider')).toBe('secondary');
      let text = '';
      for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toContain('ping');
      expect((await fetch(`${platform.gatewayUrl}/health`)).status).toBe(200);
    },
  );

  it('answers 502 for an answer larger than the gateway reads (64 MiB), and serves the next request', async () => {
    primary.enqueue({ match: isPost, padBodyTo: 65 * 1024 * 1024 });
    const error = await ask('primary/model-a').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect((error as Error).message).toContain('larger than the 67108864 bytes the gateway reads');
    // An invalid answer is not asked for again.
    expect(generations(primary)).toHaveLength(1);
    const { response } = await ask('primary/model-a');
    expect(response.status).toBe(200);
  });

  it('an answer cut short (the connection closed mid-body) is a 502 after its retries, not "no provider available"', async () => {
    // A provider of its own: these failures count against no other test's circuit.
    await admin('POST', '/api/providers', { name: 'cutter', kind: 'openai-compatible', baseUrl: secondary.baseURL });
    secondary.enqueue({ match: isPost, dropStreamAfter: 0, times: 3 });
    const error = await ask('cutter/m').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect((error as Error).message).toContain('closed the connection before its answer was complete');
    expect(generations(secondary)).toHaveLength(3);
  });

  it('ends a stream that drops mid-way with a final error event', async () => {
    secondary.enqueue({ match: isPost, dropStreamAfter: 2 });
    const res = await call<string>(`${platform.gatewayUrl}/v1/chat/completions`, {
      token: TEST_MASTER_KEY,
      body: { model: 'secondary/m', stream: true, messages: [{ role: 'user', content: 'a long answer please' }] },
    });
    const frames = res.body.trim().split('\n\n');
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(frames.at(-2)!.slice(6))).toMatchObject({
      error: {
        type: 'upstream_error',
        code: 'upstream_error',
        message: expect.stringContaining('closed the connection before its answer was complete'),
      },
    });
    expect(frames.length).toBeGreaterThanOrEqual(4);
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    primary.enqueue({ match: isPost, chunkDelayMs: 300 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'primary/model-a', stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] },
      { signal: controller.signal },
    );
    for await (const _chunk of stream) {
      controller.abort();
      break;
    }
    const upstream = await primary.waitForRequest((r) => r.aborted, 5_000);
    expect(upstream.aborted).toBe(true);
  });

  it('measures upstream latency, time to first token and requests in flight in /metrics', async () => {
    const stream = await client.chat.completions.create({
      model: 'secondary/m',
      stream: true,
      messages: [{ role: 'user', content: 'measure me' }],
    });
    for await (const _chunk of stream) void _chunk;
    const text = await (await fetch(`${platform.gatewayUrl}/metrics`)).text();
    const count = (metric: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(`${metric}{`) && line.includes('provider="secondary"'))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(count('llm_gateway_upstream_latency_seconds_count')).toBeGreaterThan(0);
    expect(count('llm_gateway_time_to_first_token_seconds_count')).toBeGreaterThan(0);
    expect(text).toMatch(/^llm_gateway_requests_in_flight\{route="chat"\} 0$/m);
  });

  it('serves embeddings', async () => {
    const res = await client.embeddings.create({ model: 'secondary/embed-1', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding.length).toBeGreaterThan(0);
  });

  it('emulates tool calling for a provider without native tools', async () => {
    secondary.enqueue({
      text: 'Sure.\n```json\n{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}\n```',
    });
    const res = await client.chat.completions.create({
      model: 'no-tools/small',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        },
      ],
    });
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    const call = res.choices[0].message.tool_calls![0];
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    expect(JSON.parse(call.type === 'function' ? call.function.arguments : '')).toEqual({ city: 'Paris' });
    const upstream = generations(secondary).at(-1)!.body as { tools?: unknown; messages: Array<{ content: string }> };
    expect(upstream.tools).toBeUndefined();
    expect(JSON.stringify(upstream.messages)).toContain('get_weather');
  });

  it('checks instructed JSON against the schema and repairs it once on chat completions', async () => {
    secondary.enqueue(
      { match: isPost, text: '{"name": "Ada"}' },
      { match: isPost, text: 'Here it is: {"name": "Ada", "age": 36}' },
    );
    const res = await client.chat.completions.create({
      model: 'no-tools/small',
      messages: [{ role: 'user', content: 'A famous programmer' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          schema: {
            type: 'object',
            properties: { name: { type: 'string' }, age: { type: 'integer' } },
            required: ['name', 'age'],
          },
        },
      },
    });
    expect(JSON.parse(res.choices[0].message.content ?? '')).toEqual({ name: 'Ada', age: 36 });
    const [first, repair] = generations(secondary).map(
      (r) => r.body as { response_format?: unknown; messages: unknown[] },
    );
    expect(first.response_format).toBeUndefined();
    expect(JSON.stringify(repair.messages)).toContain('age');
  });

  it('validates and repairs instructed JSON for a provider without native structured output', async () => {
    secondary.enqueue(
      { match: isPost, text: 'not json at all' },
      { match: isPost, text: '{"name": "Ada", "age": 36}' },
    );
    const res = await fetch(`${platform.gatewayUrl}/v1/generate/structured`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'no-tools/small',
        prompt: 'A famous programmer',
        schema: {
          type: 'object',
          properties: { name: { type: 'string' }, age: { type: 'integer' } },
          required: ['name', 'age'],
        },
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: unknown }).object).toEqual({ name: 'Ada', age: 36 });
    expect(generations(secondary)).toHaveLength(2);
  });

  it('takes a recursive schema ("$ref": "#") and repairs a reply that breaks it deep down', async () => {
    secondary.enqueue(
      { match: isPost, text: '{"name": "root", "children": [{"name": "a", "children": [{"name": 7}]}]}' },
      { match: isPost, text: '{"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}' },
    );
    const res = await fetch(`${platform.gatewayUrl}/v1/generate/structured`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'no-tools/small',
        prompt: 'A small tree',
        schema: {
          type: 'object',
          properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
          required: ['name'],
        },
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: unknown }).object).toEqual({
      name: 'root',
      children: [{ name: 'a', children: [{ name: 'b' }] }],
    });
    const [, repair] = generations(secondary).map((r) => r.body as { messages: unknown[] });
    expect(JSON.stringify(repair.messages)).toContain('$.children[0].children[0].name must be string');
  });

  it('ends a route that points back at the gateway with one 400, and counts hops through a chain of gateways', async () => {
    await admin('POST', '/api/providers', {
      name: 'self',
      kind: 'openai-compatible',
      baseUrl: `${platform.gatewayUrl}/v1`,
      apiKey: TEST_MASTER_KEY,
    });
    await admin('POST', '/api/routes', {
      alias: 'selfloop',
      strategy: 'fallback',
      targets: [{ provider: 'self', model: 'selfloop' }],
    });
    // Through the gateway twice, then the fake: each hop says how many gateways came before.
    const chained = await client.chat.completions.create({ model: 'self/primary/model-a', messages: user });
    expect(chained.choices[0].message.content).toBeTruthy();
    expect(generations(primary)[0].headers['x-gateway-hops']).toBe('2');

    for (const stream of [false, true]) {
      const started = performance.now();
      const error = await client.chat.completions.create({ model: 'selfloop', messages: user, stream }).then(
        () => undefined,
        (e: unknown) => e as { status?: number; message?: string },
      );
      expect(error?.status).toBe(400);
      expect(error?.message).toContain('Loop detected: the request has passed through 8 gateways');
      // Eight hops, none retried (a 400), rather than calls until the timeout.
      expect(performance.now() - started).toBeLessThan(3_000);
    }
    // The loop is the configuration's fault: the provider's circuit stays closed.
    const providers = await call(`${platform.gatewayUrl}/v1/providers`, { token: TEST_MASTER_KEY });
    expect(providers.body.data.find((p: { name: string }) => p.name === 'self')).toMatchObject({ circuit: 'closed' });
  });
});
