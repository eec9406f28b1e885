import type { ChatChunk, ChatResponse } from '@app/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { isClientAbort, ProviderError } from '../errors';
import type { ProviderAdapter, ProviderConfig } from '../provider.interface';
import { createProviderAdapter } from '../provider.factory';
import { withCompletionTokens } from './openai-compatible.adapter';
import { callContext, sendJson, sendSse, startServer, type Handler, type LocalServer } from '../testing/local-server';

const completion: ChatResponse = {
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion',
  created: 1741569952,
  model: 'gpt-4.1-2025-04-14',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello! How can I assist you today?', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 19,
    completion_tokens: 10,
    total_tokens: 29,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  },
  service_tier: 'default',
};

const chunk = (delta: ChatChunk['choices'][number]['delta'], finish: 'stop' | null = null): ChatChunk => ({
  id: 'chatcmpl-123',
  object: 'chat.completion.chunk',
  created: 1694268190,
  model: 'gpt-4o-mini',
  system_fingerprint: 'fp_44709d6fcb',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  usage: null,
});
const usageChunk: ChatChunk = {
  ...chunk({}),
  choices: [],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
};
const streamEvents: Array<[null, unknown]> = [
  [null, chunk({ role: 'assistant', content: '' })],
  [null, chunk({ content: 'Hello' })],
  [null, chunk({}, 'stop')],
  [null, usageChunk],
  [null, '[DONE]'],
];

let server: LocalServer | undefined;
const adapters: Array<{ close(): Promise<void> }> = [];

function track(config: ProviderConfig) {
  const adapter = createProviderAdapter(config);
  adapters.push(adapter);
  return adapter;
}

/** An upstream and an `openai` adapter pointed at it. */
async function setup(handler: Handler, config: Partial<ProviderConfig> = {}) {
  server = await startServer(handler);
  const adapter = track({
    name: 'up',
    kind: 'openai',
    baseUrl: `${server.url}/v1`,
    apiKey: 'sk-test-key-123456',
    ...config,
  });
  return { server, adapter };
}

/** The text of each chunk an adapter's stream yields, and what it failed with (if it did). */
async function readContents(adapter: ProviderAdapter): Promise<{ seen: string[]; error: unknown }> {
  const seen: string[] = [];
  try {
    for await (const c of adapter.chatStream(
      { model: 'm', messages: [{ role: 'user', content: 'Hi' }] },
      callContext(),
    ))
      seen.push(c.choices[0].delta.content ?? '');
    return { seen, error: undefined };
  } catch (error) {
    return { seen, error };
  }
}

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
  await server?.close();
  server = undefined;
});

describe('OpenAICompatibleAdapter (openai)', () => {
  it('chat: passes the request through unchanged, unknown fields included', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, completion));
    const result = await adapter.chat(
      {
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'Hi' }],
        stream_options: { include_usage: true },
        top_k: 3,
      },
      callContext(),
    );
    expect(result).toEqual(completion);
    const [request] = server.requests;
    expect(request.url).toBe('/v1/chat/completions');
    expect(request.body).toEqual({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Hi' }],
      top_k: 3,
      stream: false,
    });
    expect(request.headers['authorization']).toBe('Bearer sk-test-key-123456');
    expect(request.headers['x-request-id']).toBe('req-test-1');
  });

  it('chatStream: always asks for usage and yields every chunk, the usage chunk last', async () => {
    const { server, adapter } = await setup((_req, res) => sendSse(res, streamEvents));
    const chunks: ChatChunk[] = [];
    for await (const c of adapter.chatStream(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] },
      callContext(),
    )) {
      chunks.push(c);
    }
    expect(server.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Hello', undefined, undefined]);
    expect(chunks.at(-1)).toEqual(usageChunk);
  });

  it.each([
    ['an error event', '{"error":{"message":"overloaded","type":"server_error"}}', /overloaded/],
    ['an event that is not JSON', '{"id": oops', /invalid response/],
  ])('chatStream: delivers the events of a packet before %s in it, then fails', async (_name, bad, message) => {
    const { adapter } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
      res.end(
        frame(chunk({ content: 'a' })) +
          frame(chunk({ content: 'b' })) +
          `data: ${bad}\n\n` +
          frame(chunk({ content: 'c' })),
      );
    });
    const { seen, error } = await readContents(adapter);
    expect(seen).toEqual(['a', 'b']);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'upstream_error', message: expect.stringMatching(message) });
  });

  it.each([
    ['half of an event', `data: ${JSON.stringify(chunk({ content: 'c' })).slice(0, 20)}`, /in the middle of an event/],
    [
      'half of an event with its line ended',
      `data: ${JSON.stringify(chunk({ content: 'c' })).slice(0, 20)}\n`,
      /in the middle/,
    ],
    ['a whole last event without its blank line', `data: ${JSON.stringify(chunk({ content: 'c' }))}\n`, undefined],
    ['[DONE] without its blank line', 'data: [DONE]', undefined],
  ])('chatStream: an upstream that ends cleanly after %s', async (_name, tail, message) => {
    const { adapter } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
      res.end(frame(chunk({ content: 'a' })) + frame(chunk({ content: 'b' })) + tail);
    });
    const { seen, error } = await readContents(adapter);
    if (message) {
      expect(seen).toEqual(['a', 'b']);
      expect(error).toMatchObject({
        code: 'upstream_error',
        reason: 'bad_response',
        message: expect.stringMatching(message),
      });
    } else {
      expect(error).toBeUndefined();
      expect(seen).toEqual(tail.includes('DONE') ? ['a', 'b'] : ['a', 'b', 'c']);
    }
  });

  it('chatStream: a client abort closes the upstream socket and raises the abort marker', async () => {
    let upstreamClosed!: Promise<void>;
    const { adapter } = await setup((_req, res) => {
      upstreamClosed = new Promise((resolve) => res.on('close', () => resolve()));
      sendSse(res, [[null, chunk({ role: 'assistant', content: '' })]], false);
    });
    const controller = new AbortController();
    const stream = adapter.chatStream(
      { model: 'm', messages: [{ role: 'user', content: 'Hi' }] },
      callContext(controller.signal),
    );
    const error = await (async () => {
      for await (const _c of stream) controller.abort();
    })().catch((err: unknown) => err);
    expect(isClientAbort(error)).toBe(true);
    await expect(upstreamClosed).resolves.toBeUndefined();
  });

  it('keeps connections alive: two sequential requests share one socket', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, completion));
    const request = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'Hi' }] };
    await adapter.chat(request, callContext());
    // undici returns the socket to the pool one tick after the body is read; a request
    // issued in that same tick would open a second connection.
    await new Promise((resolve) => setImmediate(resolve));
    await adapter.chat(request, callContext());
    expect(server.requests).toHaveLength(2);
    expect(server.connections()).toBe(1);
  });

  it('chatStream: comments an upstream sends while its model thinks count as activity, past the timeout', async () => {
    const { adapter } = await setup(
      async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // 500 ms of comments only, against a 150 ms timeout, then the answer.
        for (let i = 0; i < 10; i++) {
          res.write(i % 2 ? ': keep-alive\n\n' : ': OPENROUTER PROCESSING\n\n');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        res.end(
          streamEvents
            .map(([, data]) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
            .join(''),
        );
      },
      { timeoutMs: 150 },
    );
    const chunks: ChatChunk[] = [];
    for await (const c of adapter.chatStream(
      { model: 'm', messages: [{ role: 'user', content: 'Hi' }] },
      callContext(),
    ))
      chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Hello', undefined, undefined]);
  });

  it('chatStream: a stream that goes silent after its comments still times out', async () => {
    const { adapter } = await setup(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': OPENROUTER PROCESSING\n\n');
      },
      { timeoutMs: 150 },
    );
    const { error } = await readContents(adapter);
    expect(error).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });

  it('chatStream: an event that grows past the limit fails as an invalid response, not held without end', async () => {
    const { adapter } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = `data: ${'x'.repeat(1024 * 1024)}\n`;
      // Data lines without the blank line that ends an event, past 8 MiB.
      for (let i = 0; i < 10 && !res.destroyed; i++) await new Promise((resolve) => res.write(piece, resolve));
      res.end('\n');
    });
    const { seen, error } = await readContents(adapter);
    expect(seen).toEqual([]);
    expect(error).toMatchObject({
      code: 'upstream_error',
      reason: 'bad_response',
      message: expect.stringMatching(/stream event is larger/),
    });
  });

  it('times out with upstream_timeout when the upstream hangs', async () => {
    const { adapter } = await setup(() => undefined, { timeoutMs: 150 });
    const error = await adapter.chat({ model: 'm', messages: [] }, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'upstream_timeout', status: 504, retryable: true });
  });

  it('passes a 400 through with the message of a server that answers {"message": ...}', async () => {
    const { adapter } = await setup((_req, res) =>
      sendJson(res, 400, {
        object: 'error',
        message: 'max_tokens must be at least 1, got 0.',
        type: 'BadRequestError',
        param: null,
        code: 400,
      }),
    );
    const error = await adapter
      .chat({ model: 'm', messages: [], max_tokens: 0 }, callContext())
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      code: 'invalid_request_error',
      status: 400,
      message: 'max_tokens must be at least 1, got 0.',
    });
  });

  it('answers 502 for a 2xx that is not JSON', async () => {
    const { adapter } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    const error = await adapter.chat({ model: 'm', messages: [] }, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502, reason: 'bad_response' });
  });

  it('embed: posts the request as is (no hidden base64 switch)', async () => {
    const body = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
      model: 'e',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    };
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, body));
    const result = await adapter.embed!({ model: 'text-embedding-3-small', input: 'hi' }, callContext());
    expect(result).toEqual(body);
    expect(server.requests[0]).toMatchObject({
      url: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', input: 'hi' },
    });
  });
});

describe('OpenAICompatibleAdapter (ollama, azure)', () => {
  it('ollama: lists models from /api/tags, checks /api/version, sends no Authorization', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/api/tags') {
        sendJson(res, 200, {
          models: [
            {
              name: 'llama3:8b',
              model: 'llama3:8b',
              modified_at: '2024-05-01T10:00:00.000Z',
              size: 4661224676,
              digest: 'sha256:365c0bd3c000a25d28ddbf732fe1c6add414de7275464c4e4d1c3b5fcb5d8ad1',
              details: { format: 'gguf', family: 'llama', parameter_size: '8.0B', quantization_level: 'Q4_0' },
            },
          ],
        });
      } else if (req.url === '/api/version') sendJson(res, 200, { version: '0.12.3' });
      else sendJson(res, 200, completion);
    });
    const ollama = track({ name: 'local', kind: 'ollama', baseUrl: server.url });
    expect(await ollama.listModels(callContext())).toEqual([
      { id: 'llama3:8b', ownedBy: 'ollama', created: 1714557600, description: 'llama 8.0B Q4_0' },
    ]);
    expect(await ollama.health(callContext())).toMatchObject({ ok: true });
    await ollama.chat({ model: 'llama3:8b', messages: [{ role: 'user', content: 'Hi' }] }, callContext());
    expect(server.requests.map((r) => r.url)).toEqual(['/api/tags', '/api/version', '/v1/chat/completions']);
    expect(server.requests[2].headers['authorization']).toBeUndefined();
  });

  it('azure: addresses the deployment with api-version and the api-key header', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, completion));
    const azure = track({
      name: 'az',
      kind: 'azure-openai',
      baseUrl: server.url,
      apiKey: 'azure-key',
      options: { deployments: { 'gpt-4o': 'prod-gpt4o' }, apiVersion: '2024-10-21' },
    });
    await azure.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, callContext());
    const [request] = server.requests;
    expect(request.url).toBe('/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21');
    expect(request.headers['api-key']).toBe('azure-key');
    expect(request.body).toMatchObject({ model: 'prod-gpt4o' });
  });
});

describe('OpenAICompatibleAdapter: credentials in upstream errors', () => {
  const headerSecret = 'HDR-SECRET-42';
  const apiKey = 'plain-key-7f3a9c';
  /** An upstream that quotes every credential it received back in its error message. */
  const echoing: Handler = (req, res) => {
    const said = `Bad request for key ${String(req.headers['x-api-key'])} (auth ${String(req.headers['authorization'] ?? req.headers['api-key'])})`;
    sendJson(res, 400, { error: { message: said, type: 'invalid_request_error', param: null, code: null } });
  };
  const kinds = ['openai', 'openai-compatible', 'azure-openai', 'gemini', 'ollama'] as const;

  it.each(kinds)('%s: scrubs the API key and every header value from chat, stream, models and health', async (kind) => {
    server = await startServer(echoing);
    const adapter = track({
      name: 'hdrsec',
      kind,
      baseUrl: kind === 'ollama' || kind === 'azure-openai' ? server.url : `${server.url}/v1`,
      apiKey,
      options: { headers: { 'x-api-key': headerSecret } },
    });
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };
    const stream = async () => {
      for await (const _ of adapter.chatStream(request, callContext()));
    };
    const messages = [
      await adapter.chat(request, callContext()).catch((err: Error) => err.message),
      await stream().catch((err: Error) => err.message),
      (await adapter.health(callContext())).message,
      kind === 'azure-openai' ? '' : await adapter.listModels(callContext()).catch((err: Error) => err.message),
    ];
    expect(messages[0]).toContain('Bad request for key [redacted]');
    for (const message of messages) {
      expect(message).not.toContain(headerSecret);
      expect(message).not.toContain(apiKey);
    }
  });
});

describe('OpenAICompatibleAdapter: where reasoning goes back', () => {
  const reasoningHistory = (config: Omit<ProviderConfig, 'name'>) =>
    createProviderAdapter({ name: 'p', ...config }).capabilities.reasoningHistory;

  it("takes the provider's reasoningHistory, for the kinds any server may be behind", () => {
    const options = { reasoningHistory: 'reasoning' as const };
    expect(reasoningHistory({ kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', options })).toBe(
      'reasoning',
    );
    expect(reasoningHistory({ kind: 'ollama', options })).toBe('reasoning');
    expect(reasoningHistory({ kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1' })).toBeUndefined();
    // OpenAI refuses a message field it does not know.
    expect(reasoningHistory({ kind: 'openai', apiKey: 'sk-x', options })).toBeUndefined();
  });

  it("defaults to reasoning_content for DeepSeek's API, whose thinking mode requires it in tool rounds", () => {
    expect(reasoningHistory({ kind: 'openai-compatible', baseUrl: 'https://api.deepseek.com' })).toBe(
      'reasoning_content',
    );
    expect(reasoningHistory({ kind: 'openai-compatible', baseUrl: 'https://api.deepseek.com/v1' })).toBe(
      'reasoning_content',
    );
    expect(
      reasoningHistory({
        kind: 'openai-compatible',
        baseUrl: 'https://api.deepseek.com',
        options: { reasoningHistory: 'reasoning' },
      }),
    ).toBe('reasoning');
    expect(reasoningHistory({ kind: 'openai-compatible', baseUrl: 'https://api.groq.com/openai/v1' })).toBeUndefined();
  });
});

describe('withCompletionTokens', () => {
  const messages = [{ role: 'user' as const, content: 'Hi' }];
  it("sends max_tokens under OpenAI's current name, and leaves a request naming both or neither as it is", () => {
    expect(withCompletionTokens({ model: 'o3', messages, max_tokens: 5 })).toEqual({
      model: 'o3',
      messages,
      max_completion_tokens: 5,
    });
    expect(withCompletionTokens({ model: 'o3', messages, max_tokens: null })).toEqual({ model: 'o3', messages });
    const both = { model: 'o3', messages, max_tokens: 5, max_completion_tokens: 9 };
    expect(withCompletionTokens(both)).toBe(both);
    const neither = { model: 'o3', messages };
    expect(withCompletionTokens(neither)).toBe(neither);
  });
});
