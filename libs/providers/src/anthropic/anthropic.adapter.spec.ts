import type { ChatChunk, ChatRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { isClientAbort, isRetryable, retryAfterMs } from '../errors';
import { adapterOnLocalServer, callContext, sendJson, sendSse } from '../testing/local-server';
import { DEFAULT_ANTHROPIC_API_VERSION } from './anthropic.adapter';
import { textMessage, textStream, toolStream, toolUseMessage } from './anthropic.fixtures';

const setup = adapterOnLocalServer({ name: 'claude', kind: 'anthropic', apiKey: 'sk-ant-test-abcdef123456' });

const request: ChatRequest = {
  model: 'claude-sonnet-5-5',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather in SF?' },
  ],
  tools: [
    {
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } },
    },
  ],
};

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('AnthropicAdapter', () => {
  it("chat: sends Messages params with the gateway's headers and maps the answer back", async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, textMessage));
    const response = await adapter.chat({ ...request, tools: undefined }, callContext());
    expect(response.choices[0].message.content).toBe('Hello! How can I help?');
    const [sent] = server.requests;
    expect(sent.url).toBe('/v1/messages');
    expect(sent.body).toEqual({
      model: 'claude-sonnet-5-5',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Weather in SF?' }],
      stream: false,
    });
    expect(sent.headers).toMatchObject({
      'x-api-key': 'sk-ant-test-abcdef123456',
      authorization: 'Bearer sk-ant-test-abcdef123456',
      'anthropic-version': DEFAULT_ANTHROPIC_API_VERSION,
      'x-request-id': 'req-test-1',
    });
  });

  it('chat: a tool call comes back as tool_calls', async () => {
    const { adapter } = await setup((_req, res) => sendJson(res, 200, toolUseMessage));
    const choice = (await adapter.chat(request, callContext())).choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
  });

  it('chatStream: maps the SSE events (pings included) to chunks, usage last', async () => {
    const { server, adapter } = await setup((_req, res) =>
      sendSse(res, [
        [textStream[0].type, textStream[0]],
        ['ping', { type: 'ping' }],
        ...textStream.slice(1).map((e): [string, unknown] => [e.type, e]),
      ]),
    );
    const chunks = await collect(adapter.chatStream(request, callContext()));
    expect(server.requests[0].body).toMatchObject({ stream: true });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello!');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 15 } });
  });

  it('chatStream: pings and comments while the model thinks count as activity, past the timeout', async () => {
    const { adapter } = await setup(
      async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: message_start\ndata: ${JSON.stringify(textStream[0])}\n\n`);
        // 500 ms of pings and comments only, against a 150 ms timeout (the SDK passes on neither).
        for (let i = 0; i < 10; i++) {
          res.write(i % 2 ? ': keep-alive\n\n' : 'event: ping\ndata: {"type": "ping"}\n\n');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        res.end(
          textStream
            .slice(1)
            .map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
            .join(''),
        );
      },
      { timeoutMs: 150 },
    );
    const chunks = await collect(adapter.chatStream(request, callContext()));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello!');
  });

  it('chatStream: an event that grows past the limit fails as an invalid response', async () => {
    const { adapter } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = `data: ${'x'.repeat(1024 * 1024)}\n`;
      for (let i = 0; i < 10 && !res.destroyed; i++) await new Promise((resolve) => res.write(piece, resolve));
      res.end('\n');
    });
    const error = await collect(adapter.chatStream(request, callContext())).catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'upstream_error',
      reason: 'bad_response',
      message: expect.stringMatching(/stream event is larger/),
    });
  });

  it('chat: an answer larger than the gateway reads (64 MiB) fails as an invalid response', async () => {
    const { adapter } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      await new Promise((resolve) => res.write('{"padding":"', resolve));
      const piece = Buffer.alloc(1024 * 1024, 0x78);
      for (let i = 0; i < 65 && !res.destroyed; i++) await new Promise((resolve) => res.write(piece, resolve));
      res.end('"}');
    });
    const error = await adapter.chat(request, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'upstream_error',
      reason: 'bad_response',
      message: expect.stringMatching(/the answer is larger than the 67108864 bytes/),
    });
  });

  it('chat: an answer whose content is not a list of blocks fails as an invalid response, not a failure of ours', async () => {
    const { adapter } = await setup((_req, res) => sendJson(res, 200, { ...textMessage, content: [null] }));
    const error = await adapter.chat(request, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'upstream_error', reason: 'bad_response', status: 502 });
    expect((error as Error).message).toContain('returned an invalid response: expected a Messages API JSON object');
  });

  it.each([
    ['message_start without its message', [['message_start', { type: 'message_start', message: null }]]],
    [
      'a block delta without its delta',
      [
        ['message_start', textStream[0]],
        ['content_block_start', textStream[1]],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: null }],
      ],
    ],
  ] as const)('chatStream: %s fails as an invalid response', async (_name, events) => {
    const { adapter } = await setup((_req, res) => sendSse(res, events as unknown as Array<[string, unknown]>));
    const error = await collect(adapter.chatStream(request, callContext())).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'upstream_error', reason: 'bad_response', status: 502 });
  });

  it('chatStream: a streamed tool call', async () => {
    const { adapter } = await setup((_req, res) =>
      sendSse(
        res,
        toolStream.map((e): [string, unknown] => [e.type, e]),
      ),
    );
    const chunks = await collect(adapter.chatStream(request, callContext()));
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .filter((call) => call.index === 0)
      .map((call) => call.function?.arguments ?? '')
      .join('');
    expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA' });
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('429 with retry-after becomes a retryable rate_limit_exceeded', async () => {
    const { adapter } = await setup((_req, res) =>
      sendJson(
        res,
        429,
        {
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message: 'Number of request tokens has exceeded your per-minute rate limit',
          },
        },
        { 'retry-after': '12' },
      ),
    );
    const error = await adapter.chat(request, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'rate_limit_exceeded', status: 429, retryAfter: 12 });
    expect(isRetryable(error)).toBe(true);
    expect(retryAfterMs(error)).toBe(12_000);
  });

  it('an overloaded_error event mid-stream becomes a retryable 503 (overloaded)', async () => {
    const { adapter } = await setup((_req, res) =>
      sendSse(res, [
        ['message_start', textStream[0]],
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ]),
    );
    const error = await collect(adapter.chatStream(request, callContext())).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503, retryable: true });
  });

  it('a client abort mid-stream is the abort marker', async () => {
    const { adapter } = await setup((_req, res) => sendSse(res, [['message_start', textStream[0]]], false));
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _chunk of adapter.chatStream(request, callContext(controller.signal))) controller.abort();
    })().catch((err: unknown) => err);
    expect(isClientAbort(error)).toBe(true);
  });

  it('refuses an unmappable request before calling upstream', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, textMessage));
    const error = await adapter.chat({ ...request, n: 3 }, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'invalid_request_error', param: 'n' });
    expect(server.requests).toHaveLength(0);
  });

  it('stop: an empty sequence is left out, one of only whitespace is refused naming stop (Anthropic refuses both)', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, textMessage));
    const plain = { ...request, tools: undefined };
    await adapter.chat({ ...plain, stop: ['', 'END'] }, callContext());
    await adapter.chat({ ...plain, stop: '' }, callContext());
    expect(server.requests.map((r) => (r.body as { stop_sequences?: string[] }).stop_sequences)).toEqual([
      ['END'],
      undefined,
    ]);
    for (const stop of ['\n', ['END', ' \t']]) {
      const error = await adapter.chat({ ...plain, stop }, callContext()).catch((err: unknown) => err);
      expect(error).toMatchObject({ code: 'invalid_request_error', status: 400, param: 'stop' });
    }
    expect(server.requests).toHaveLength(2);
  });

  it('parallel_tool_calls false still holds when response_format adds its answer tool', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, toolUseMessage));
    await adapter.chat(
      { ...request, parallel_tool_calls: false, response_format: { type: 'json_object' } },
      callContext(),
    );
    expect((server.requests[0].body as { tool_choice?: unknown }).tool_choice).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
  });

  it('an image/jpg data URL is sent as image/jpeg (OpenAI takes it; Anthropic only knows image/jpeg)', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, textMessage));
    await adapter.chat(
      {
        model: 'claude-sonnet-5-5',
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } }] },
        ],
      },
      callContext(),
    );
    expect((server.requests[0].body as { messages: unknown }).messages).toEqual([
      {
        role: 'user',
        content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } }],
      },
    ]);
  });

  it('a conversation of system and developer messages alone is sent as one user turn (Anthropic needs one)', async () => {
    const { server, adapter } = await setup((_req, res) => sendJson(res, 200, textMessage));
    const response = await adapter.chat(
      {
        model: 'claude-sonnet-5-5',
        messages: [
          { role: 'system', content: 'Write a haiku about the sea.' },
          { role: 'developer', content: 'In French.' },
        ],
      },
      callContext(),
    );
    expect(response.choices[0].message.content).toBe('Hello! How can I help?');
    const sent = server.requests[0].body as { system?: unknown; messages: unknown };
    expect(sent.system).toBeUndefined();
    expect(sent.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Write a haiku about the sea.' },
          { type: 'text', text: 'In French.' },
        ],
      },
    ]);
  });

  it('lists models and reports health', async () => {
    const { adapter } = await setup((_req, res) =>
      sendJson(res, 200, {
        data: [
          {
            type: 'model',
            id: 'claude-sonnet-5-5',
            display_name: 'Claude Sonnet 5.5',
            created_at: '2026-05-14T00:00:00Z',
          },
        ],
        has_more: false,
        first_id: 'claude-sonnet-5-5',
        last_id: 'claude-sonnet-5-5',
      }),
    );
    expect(await adapter.listModels(callContext())).toEqual([
      { id: 'claude-sonnet-5-5', ownedBy: 'anthropic', created: 1778716800, description: 'Claude Sonnet 5.5' },
    ]);
    expect(await adapter.health(callContext())).toMatchObject({ ok: true });
  });

  it('scrubs the API key and every header value from chat, stream, models and health errors', async () => {
    const secrets = ['HDR-SECRET-42', 'plain-key-7f3a9c'];
    const { adapter } = await setup(
      (req, res) =>
        sendJson(res, 400, {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: `Bad request for key ${String(req.headers['x-custom-key'])} (${String(req.headers['x-api-key'])})`,
          },
        }),
      { apiKey: secrets[1], options: { headers: { 'x-custom-key': secrets[0] } } },
    );
    const call = { ...request, tools: undefined };
    const messages = [
      await adapter.chat(call, callContext()).catch((err: Error) => err.message),
      await collect(adapter.chatStream(call, callContext())).catch((err: Error) => err.message),
      await adapter.listModels(callContext()).catch((err: Error) => err.message),
      (await adapter.health(callContext())).message,
    ];
    expect(messages[0]).toBe('Bad request for key [redacted] ([redacted])');
    for (const message of messages) {
      expect(message).toEqual(expect.any(String));
      for (const secret of secrets) expect(message).not.toContain(secret);
    }
  });
});
