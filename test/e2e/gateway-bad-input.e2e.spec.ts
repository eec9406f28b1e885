import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const user = [{ role: 'user', content: 'hi' }];
/** What reached the upstream besides model discovery. */
const generations = (fake: FakeOpenAIServer) => fake.requests.filter((r) => r.method === 'POST');
const validTool = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };
/** An answer without the request id the Messages API's error bodies carry (each request has its own). */
const withoutRequestId = (json: Record<string, unknown>): Record<string, unknown> => {
  const { request_id: _requestId, ...rest } = json;
  return rest;
};

/** Every bad request gets the envelope with the right status and `param`; nothing reaches the upstream. */
describe('gateway bad input', () => {
  const upstream = new FakeOpenAIServer();
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPlatform({
      apps: ['gateway'],
      env: { OPENAI_API_KEY: 'sk-up', OPENAI_BASE_URL: await upstream.start(), MAX_BODY_BYTES: '65536' },
    });
  });
  afterAll(async () => {
    await platform?.close();
    await upstream.close();
  });

  const post = (path: string, body: unknown, raw?: string, headers: Record<string, string> = {}) =>
    fetch(`${platform.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', ...headers },
      body: raw ?? JSON.stringify(body),
    });

  /** Posts `body` and checks the 400 `invalid_request_error` naming `param`; its message. */
  const refusal = async (path: string, body: unknown, param: string): Promise<string> => {
    const res = await post(path, body);
    expect(res.status, `${path} ${param}`).toBe(400);
    const json = (await res.json()) as { error: { message: string; type: string; param: string } };
    expect(json.error).toMatchObject({ type: 'invalid_request_error', param });
    return json.error.message;
  };

  it.each<[string, unknown, number, string | null]>([
    ['missing messages', { model: 'openai/gpt-4o' }, 400, 'messages'],
    ['empty messages', { model: 'openai/gpt-4o', messages: [] }, 400, 'messages'],
    ['messages of the wrong type', { model: 'openai/gpt-4o', messages: 'hi' }, 400, 'messages'],
    [
      'an unknown role',
      { model: 'openai/gpt-4o', messages: [{ role: 'wizard', content: 'x' }] },
      400,
      'messages[0].role',
    ],
    ['a missing model', { messages: user }, 400, 'model'],
    ['a model with control characters', { model: 'openai/gpt-4o\r\nx-evil: 1', messages: user }, 400, 'model'],
    ['a model with an unpaired surrogate', { model: 'openai/gpt-4o\ud800', messages: user }, 400, 'model'],
    ['n out of range', { model: 'openai/gpt-4o', messages: user, n: 0 }, 400, 'n'],
    ['max_tokens out of range', { model: 'openai/gpt-4o', messages: user, max_tokens: -5 }, 400, 'max_tokens'],
    [
      'temperature of the wrong type',
      { model: 'openai/gpt-4o', messages: user, temperature: 'hot' },
      400,
      'temperature',
    ],
    ['logit_bias of the wrong type', { model: 'openai/gpt-4o', messages: user, logit_bias: 'x' }, 400, 'logit_bias'],
    [
      'a tool with an invalid JSON Schema',
      {
        model: 'openai/gpt-4o',
        messages: user,
        tools: [validTool, { type: 'function', function: { name: 'g', parameters: { type: 'nonsense' } } }],
      },
      400,
      'tools[1].function.parameters',
    ],
    [
      'a response_format schema that is not a schema',
      {
        model: 'openai/gpt-4o',
        messages: user,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 12 } } },
      },
      400,
      'response_format.json_schema.schema',
    ],
    [
      'a tool_choice naming a function missing from tools',
      {
        model: 'openai/gpt-4o',
        messages: user,
        tools: [validTool],
        tool_choice: { type: 'function', function: { name: 'g' } },
      },
      400,
      'tool_choice',
    ],
    [
      'a tool_choice requiring a call without tools',
      { model: 'openai/gpt-4o', messages: user, tool_choice: 'required' },
      400,
      'tool_choice',
    ],
    ['a model that does not exist', { model: 'nowhere/nothing', messages: user }, 404, 'model'],
  ])('rejects %s', async (_name, body, status, param) => {
    const res = await post('/v1/chat/completions', body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
    expect(json.error.param).toBe(param);
    expect(json.error.message.length).toBeGreaterThan(0);
    expect(json.error.type).toBeTruthy();
    if (status === 404) expect(json.error.code).toBe('model_not_found');
    expect(generations(upstream)).toHaveLength(0);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['numeric content', { messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    ['object content', { messages: [{ role: 'user', content: { a: 1 } }] }, 'messages[0].content'],
    ['an unknown role', { messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    ['max_tokens over the cap', { prompt: 'x', max_tokens: 1e15 }, 'max_tokens'],
    ['neither messages nor prompt', {}, 'messages'],
  ])('rejects a structured generation with %s, naming the field', async (_name, fields, param) => {
    await refusal('/v1/generate/structured', { model: 'openai/gpt-4o', schema: { type: 'object' }, ...fields }, param);
    expect(generations(upstream)).toHaveLength(0);
  });

  it('rejects a schema nested too deeply wherever a schema is checked, with a 400 naming it', async () => {
    // 100 levels of properties: 200 of JSON, past the schemas' 128, within the bodies' 256 (deeper is refused as a body).
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100; i++) deep = { type: 'object', properties: { a: deep } };
    const cases: Array<[string, unknown, string]> = [
      ['/v1/generate/structured', { model: 'openai/gpt-4o', prompt: 'x', schema: deep }, 'schema'],
      [
        '/v1/chat/completions',
        {
          model: 'openai/gpt-4o',
          messages: user,
          response_format: { type: 'json_schema', json_schema: { name: 'x', schema: deep } },
        },
        'response_format.json_schema.schema',
      ],
      [
        '/v1/chat/completions',
        {
          model: 'openai/gpt-4o',
          messages: user,
          tools: [{ type: 'function', function: { name: 'f', parameters: deep } }],
        },
        'tools[0].function.parameters',
      ],
      [
        '/v1/messages',
        { model: 'openai/gpt-4o', messages: user, max_tokens: 10, tools: [{ name: 'f', input_schema: deep }] },
        'tools[0].input_schema',
      ],
    ];
    for (const [path, body, param] of cases) {
      expect(await refusal(path, body, param)).toContain('more than 128 levels deep');
    }
    expect(generations(upstream)).toHaveLength(0);
  });

  it("refuses the schema that takes a request's schemas past the gateway's limits, before compiling it", async () => {
    /** 600 properties, each with its own pattern: 1,200 of them pass the 1,000 patterns a request may hold. */
    const patterned = (tag: string) => ({
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 600 }, (_, i) => [`${tag}${i}`, { type: 'string', pattern: `^${tag}${i}$` }]),
      ),
    });
    const tool = (name: string) => ({ type: 'function', function: { name, parameters: patterned(name) } });
    const cases: Array<[string, unknown, string]> = [
      [
        '/v1/chat/completions',
        { model: 'openai/gpt-4o', messages: user, tools: [tool('a'), tool('b')] },
        'tools[1].function.parameters',
      ],
      [
        '/v1/chat/completions',
        {
          model: 'openai/gpt-4o',
          messages: user,
          tools: [tool('a')],
          response_format: { type: 'json_schema', json_schema: { name: 'x', schema: patterned('r') } },
        },
        'response_format.json_schema.schema',
      ],
      [
        '/v1/messages',
        {
          model: 'openai/gpt-4o',
          messages: user,
          max_tokens: 10,
          tools: [
            { name: 'a', input_schema: patterned('a') },
            { name: 'b', input_schema: patterned('b') },
          ],
        },
        'tools[1].input_schema',
      ],
    ];
    for (const [path, body, param] of cases) {
      expect(await refusal(path, body, param)).toBe(
        `${param} is too large for the gateway to check: it holds 600 patterns (with the 600 of the schemas ` +
          'before it), and the JSON Schemas of one request may hold at most 1,000 patterns together',
      );
    }
    expect(generations(upstream)).toHaveLength(0);
  });

  it('rejects malformed JSON and oversized bodies', async () => {
    const malformed = await post('/v1/chat/completions', undefined, '{"model": ');
    expect(malformed.status).toBe(400);
    const huge = await post('/v1/chat/completions', {
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'x'.repeat(70_000) }],
    });
    expect(huge.status).toBe(413);
    expect(generations(upstream)).toHaveLength(0);
  });

  it('rejects bad embeddings, legacy completions and Messages API bodies', async () => {
    expect((await post('/v1/embeddings', { model: 'openai/e', input: [] })).status).toBe(400);
    expect((await post('/v1/completions', { model: 'openai/gpt-4o', prompt: 'x', max_tokens: 'many' })).status).toBe(
      400,
    );
    const messages = await post('/v1/messages', { model: 'openai/gpt-4o', messages: user });
    expect(messages.status).toBe(400);
    const body = (await messages.json()) as { type: string; error: { type: string; param: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', param: 'max_tokens' } });
    const tooMany = await post('/v1/messages', { model: 'openai/gpt-4o', messages: user, max_tokens: 10_000_000 });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'max_tokens' } });
    const missingTool = await post('/v1/messages', {
      model: 'openai/gpt-4o',
      messages: user,
      max_tokens: 10,
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'g' },
    });
    expect(missingTool.status).toBe(400);
    expect(await missingTool.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', param: 'tool_choice' },
    });
    // Tools are named by their Anthropic fields, and their names checked as Anthropic does.
    for (const [tool, param, message] of [
      [
        { name: 'ok', input_schema: { type: 'bad' } },
        'tools[0].input_schema',
        /^tools\[0\]\.input_schema is not a valid JSON Schema/,
      ],
      [{ name: 'bad name!', input_schema: { type: 'object' } }, 'tools[0].name', /./],
    ] as const) {
      const res = await post('/v1/messages', { model: 'openai/gpt-4o', messages: user, max_tokens: 10, tools: [tool] });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { type: string; error: { param: string; message: string } };
      expect(body).toMatchObject({ type: 'error', error: { param } });
      expect(body.error.message).toMatch(message);
    }
    expect(generations(upstream)).toHaveLength(0);
  });

  it('rejects a body over the limit sent without a length, and one in a charset other than UTF', async () => {
    // Chunked, so the limit is found while reading rather than from content-length.
    const chunks = [
      JSON.stringify({ model: 'openai/gpt-4o', messages: user }).slice(0, -1),
      `, "pad": "${'x'.repeat(70_000)}"}`,
    ];
    const streamed = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    const latin1 = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json; charset=latin1' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: user }),
    });
    expect(latin1.status).toBe(415);
    expect(generations(upstream)).toHaveLength(0);
    // The gateway still answers on the same pool of connections.
    expect((await post('/v1/chat/completions', { model: 'openai/gpt-4o', messages: user })).status).toBe(200);
  });

  it('rejects a compressed body that does not decode as its content-encoding says, with 400', async () => {
    const before = generations(upstream).length;
    const body = JSON.stringify({ model: 'openai/gpt-4o', messages: user });
    for (const [encoding, sent] of [
      ['gzip', Buffer.from('not gzip')],
      ['deflate', Buffer.from('not deflate')],
      ['br', gzipSync(body)],
      ['gzip', gzipSync(body).subarray(0, 12)],
    ] as const) {
      for (const path of ['/v1/chat/completions', '/v1/messages', '/v1/embeddings']) {
        const res = await fetch(`${platform.gatewayUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body: sent,
        });
        expect(res.status, `${encoding} on ${path}`).toBe(400);
        const json = (await res.json()) as { error: { type: string; message: string } };
        expect(json.error.type).toBe('invalid_request_error');
        expect(json.error.message).toContain('content-encoding');
      }
    }
    // A body that does decode is read (and validated: empty messages, so that nothing goes upstream).
    const gzipped = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_MASTER_KEY}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(JSON.stringify({ model: 'openai/gpt-4o', messages: [] })),
    });
    expect(gzipped.status).toBe(400);
    expect(((await gzipped.json()) as { error: { param: string } }).error.param).toBe('messages');
    expect(generations(upstream)).toHaveLength(before);
  });

  it('rejects a body nested too deeply on every route and path, and the provider stays available', async () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const bodies: Array<[string, (extra: string) => string]> = [
      ['/v1/chat/completions', (x) => `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi","x":${x}}]}`],
      [
        '/v1/chat/completions',
        (x) => `{"model":"openai/gpt-4o","stream":true,"messages":${JSON.stringify(user)},"x":${x}}`,
      ],
      ['/v1/messages', (x) => `{"model":"openai/gpt-4o","max_tokens":5,"messages":${JSON.stringify(user)},"x":${x}}`],
      ['/v1/embeddings', (x) => `{"model":"openai/e","input":"x","x":${x}}`],
      ['/v1/completions', (x) => `{"model":"openai/gpt-4o","prompt":"x","x":${x}}`],
    ];
    const before = generations(upstream).length;
    for (const [path, body] of bodies) {
      for (const levels of [300, 20_000]) {
        for (const origin of [undefined, 'http://dashboard.example']) {
          const res = await post(path, undefined, body(deep(levels)), origin ? { origin } : {});
          expect(res.status, `${path}, ${levels} levels, ${origin ? 'full stack' : 'hot path'}`).toBe(400);
          expect(await res.text()).toContain('nests objects and arrays more than 256 levels deep');
        }
      }
    }
    expect(generations(upstream)).toHaveLength(before);
    // Within the limit, an unknown field passes; the provider's circuit was never touched.
    const within = await post('/v1/chat/completions', undefined, bodies[0][1](deep(200)));
    expect(within.status).toBe(200);
  });

  /**
   * Writes `request` on a fresh socket and reads what comes back until the gateway closes
   * the connection or `waitMs` passes (the socket is then closed by us: `closedByGateway` false).
   */
  const raw = (request: string, waitMs = 3_000) =>
    new Promise<{ text: string; closedByGateway: boolean }>((resolve) => {
      const { port } = new URL(platform.gatewayUrl);
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closedByGateway: false });
      }, waitMs);
      socket.on('data', (data) => (text += data.toString('utf8')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedByGateway: true });
      });
    });
  const head = (path: string, headers: Record<string, string | number>) =>
    `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_MASTER_KEY}\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  const envelope = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: Json };
  type Json = Record<string, unknown>;

  it('answers 413 at once to a body declared too large, on both paths, and closes instead of reading it', async () => {
    for (const extra of [{}, { origin: 'http://app.local' }] as Array<Record<string, string>>) {
      const started = performance.now();
      // 100 kB declared against the 64 kB limit, 10 bytes sent: the rest never comes.
      const answer = await raw(
        head('/v1/chat/completions', { 'content-type': 'application/json', 'content-length': 100_000, ...extra }) +
          '{"model": ',
      );
      expect(answer.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer.text.toLowerCase()).toContain('connection: close');
      expect(envelope(answer.text).error).toMatchObject({ code: 'request_too_large' });
      expect(answer.closedByGateway).toBe(true);
      expect(performance.now() - started).toBeLessThan(2_000);
    }
    // Sent without a length (chunked), past the limit and never finished: 413 as it passes the limit, on both paths.
    for (const extra of [{}, { origin: 'http://app.local' }] as Array<Record<string, string>>) {
      const chunk = `{"pad": "${'x'.repeat(70_000)}`;
      const answer = await raw(
        head('/v1/chat/completions', { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...extra }) +
          `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      );
      expect(answer.text, JSON.stringify(extra)).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer.closedByGateway).toBe(true);
    }
    // `expect: 100-continue` for such a body: no "100 Continue", the 413 at once.
    const expecting = await raw(
      head('/v1/chat/completions', {
        'content-type': 'application/json',
        'content-length': 10_000_000,
        expect: '100-continue',
      }),
    );
    expect(expecting.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(expecting.text).not.toContain('100 Continue');
  });

  it('reads a UTF-8 body behind a byte order mark, and refuses another charset with 415 on both paths', async () => {
    const body = JSON.stringify({ model: 'openai/gpt-4o', messages: user });
    for (const origin of [undefined, 'http://app.local']) {
      const withBom = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_MASTER_KEY}`,
          'content-type': 'application/json',
          ...(origin ? { origin } : {}),
        },
        body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]),
      });
      expect(withBom.status, origin).toBe(200);
      const utf16 = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_MASTER_KEY}`,
          'content-type': 'application/json; charset=utf-16le',
          ...(origin ? { origin } : {}),
        },
        body: Buffer.from(body, 'utf16le'),
      });
      expect(utf16.status, origin).toBe(415);
      // `utf-8` as written, on both paths alike (the full stack's parser refuses the `utf8` alias).
      const alias = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_MASTER_KEY}`,
          'content-type': 'application/json; charset=utf8',
          ...(origin ? { origin } : {}),
        },
        body,
      });
      expect(alias.status, origin).toBe(415);
      expect(((await utf16.json()) as { error: Json }).error).toMatchObject({ code: 'unsupported_media_type' });
    }
  });

  it('answers what Node refuses before the app (bad HTTP, headers too large) in the error envelope', async () => {
    const garbage = await raw('GARBAGE / HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(garbage.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(envelope(garbage.text).error).toMatchObject({ type: 'invalid_request_error', code: 'bad_request' });
    const huge = await raw(`GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(envelope(huge.text).error).toMatchObject({ code: 'request_header_fields_too_large' });
    const expecting = await raw(`GET /health HTTP/1.1\r\nhost: x\r\nexpect: nope\r\n\r\n`);
    expect(expecting.text).toMatch(/^HTTP\/1\.1 417 /);
    expect(envelope(expecting.text).error).toMatchObject({ code: 'expectation_failed' });
    expect((await fetch(`${platform.gatewayUrl}/health`)).status).toBe(200);
  });

  it('ends a HEAD request on the event stream after its head; the next request on the connection is answered', async () => {
    const answer = await raw(
      `HEAD /v1/events/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_MASTER_KEY}\r\n\r\n` +
        'GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    );
    expect(answer.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.text).toContain('text/event-stream');
    expect(answer.text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(answer.closedByGateway).toBe(true);
  });

  it('stays healthy when clients go away in the middle of their bodies', async () => {
    const { port } = new URL(platform.gatewayUrl);
    const cut = (length: number, sent: string) =>
      new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_MASTER_KEY}\r\n` +
              `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n${sent}`,
            () => setTimeout(() => socket.destroy(), 20),
          );
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
    await cut(1000, '{"model": "openai/gpt-4o", "mess');
    await cut(10_000_000, '{"model": ');
    expect((await fetch(`${platform.gatewayUrl}/health`)).status).toBe(200);
    expect((await post('/v1/chat/completions', { model: 'openai/gpt-4o', messages: user })).status).toBe(200);
  });

  it('answers the same on the hot path and through the full stack (browser calls, for CORS)', async () => {
    const call = async (path: string, body: string, origin?: string) => {
      const res = await post(path, undefined, body, origin ? { origin } : {});
      const json = (await res.json()) as Record<string, unknown>;
      return {
        status: res.status,
        cors: res.headers.get('access-control-allow-origin'),
        provider: res.headers.get('x-gateway-provider'),
        json,
      };
    };
    const cases: Array<[string, string]> = [
      ['/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o', messages: user })],
      ['/v1/chat/completions', JSON.stringify({ model: 'openai/gpt-4o', messages: [] })],
      ['/v1/chat/completions', JSON.stringify({ model: 'nowhere/nothing', messages: user })],
      ['/v1/chat/completions', '{"model": '],
      ['/v1/messages', JSON.stringify({ model: 'openai/gpt-4o', messages: user })],
      ['/v1/embeddings', JSON.stringify({ model: 'openai/e', input: [] })],
      ['/v1/completions', JSON.stringify({ model: 'openai/gpt-4o', prompt: 'x', max_tokens: 'many' })],
    ];
    for (const [path, body] of cases) {
      const hot = await call(path, body);
      const full = await call(path, body, 'http://dashboard.example');
      expect(hot.cors).toBeNull();
      expect(full.cors).toBeTruthy();
      expect(full.status).toBe(hot.status);
      expect(full.provider).toBe(hot.provider);
      if (hot.status === 200) {
        expect(full.json.object).toBe(hot.json.object);
        expect(full.json.choices).toEqual(hot.json.choices);
      } else {
        expect(withoutRequestId(full.json)).toEqual(withoutRequestId(hot.json));
      }
    }
    const unauthenticated = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://dashboard.example' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: user }),
    });
    expect(unauthenticated.status).toBe(401);
  });

  it("answers the Messages API's body errors in Anthropic's shape on the hot path and through the full stack", async () => {
    const valid = JSON.stringify({ model: 'openai/gpt-4o', max_tokens: 10, messages: user });
    const cases: Array<[string, number, string, string, string]> = [
      ['malformed JSON', 400, 'invalid_request_error', '{"model": ', 'application/json'],
      [
        'a body over the limit',
        413,
        'request_too_large',
        valid.replace('{', `{"pad": "${'x'.repeat(70_000)}", `),
        'application/json',
      ],
      ['a charset other than UTF', 415, 'invalid_request_error', valid, 'application/json; charset=latin1'],
    ];
    // The hot path, then two ways to the full stack: a browser call (Origin), a compressed body.
    const ways = (body: string): Array<{ headers: Record<string, string>; body: string | Buffer }> => [
      { headers: {}, body },
      { headers: { origin: 'http://dashboard.example' }, body },
      { headers: { 'content-encoding': 'gzip' }, body: gzipSync(body) },
    ];
    const reached = generations(upstream).length;
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      for (const [name, status, type, body, contentType] of cases) {
        const answers: unknown[] = [];
        for (const way of ways(body)) {
          const res = await fetch(`${platform.gatewayUrl}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': contentType, ...way.headers },
            body: way.body,
          });
          expect(res.status, `${path}, ${name}`).toBe(status);
          const json = (await res.json()) as Record<string, unknown>;
          expect(json.request_id).toBe(res.headers.get('request-id'));
          answers.push(withoutRequestId(json));
        }
        expect(answers[0], `${path}, ${name}`).toMatchObject({ type: 'error', error: { type, param: null } });
        expect(answers[1]).toEqual(answers[0]);
        expect(answers[2]).toEqual(answers[0]);
      }
    }
    expect(generations(upstream)).toHaveLength(reached);
  });

  it('refuses what the mock provider would not generate with a 400 naming the field, and stays responsive', async () => {
    const tooMany = { type: 'array', items: { type: 'string' }, minItems: 100_000_000 };
    const started = performance.now();
    const health = fetch(`${platform.gatewayUrl}/health`);
    const refusals = await Promise.all([
      post('/v1/generate/structured', { model: 'mock/echo-1', prompt: 'x', schema: tooMany }),
      post('/v1/chat/completions', {
        model: 'mock/echo-1',
        messages: user,
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'object', properties: { a: tooMany }, required: ['a'] } },
          },
        ],
        tool_choice: 'required',
      }),
      post('/v1/chat/completions', {
        model: 'mock/echo-1',
        messages: user,
        stream: true,
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: tooMany } },
      }),
      post('/v1/embeddings', { model: 'mock/echo-1', input: 'x', dimensions: 3_000_000 }),
    ]);
    const answers = await Promise.all(
      refusals.map(async (res) => {
        const { error } = (await res.json()) as { error?: { type: string; param: string | null } };
        return [res.status, error?.type, error?.param];
      }),
    );
    expect(answers).toEqual([
      [400, 'invalid_request_error', 'schema'],
      [400, 'invalid_request_error', 'tools[0].function.parameters'],
      [400, 'invalid_request_error', 'response_format.json_schema.schema'],
      [400, 'invalid_request_error', 'dimensions'],
    ]);
    expect((await health).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('requires an API key', async () => {
    const res = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o', messages: user }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('answers a model named outside ASCII, its name percent-encoded in x-gateway-model', async () => {
    for (const stream of [false, true]) {
      const res = await post('/v1/chat/completions', { model: 'openai/模型-👋', messages: user, stream });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-model')).toBe(encodeURIComponent('模型-👋'));
      expect(decodeURIComponent(res.headers.get('x-gateway-model')!)).toBe('模型-👋');
      const text = await res.text();
      if (stream) expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    }
    const latin = await post('/v1/embeddings', { model: 'openai/modèle', input: 'x' });
    expect(latin.status).toBe(200);
    expect(latin.headers.get('x-gateway-model')).toBe(encodeURIComponent('modèle'));
  });
});
