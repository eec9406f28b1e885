import type { AnthropicMessageRequest, AnthropicSseEvent } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { isClientAbort } from '../errors';
import type { ProviderAdapter, ProviderConfig } from '../provider.interface';
import { adapterOnLocalServer, callContext, sendJson, sendSse, type Handler } from '../testing/local-server';
import { textMessage, textStream } from './anthropic.fixtures';

const start = adapterOnLocalServer({ name: 'claude', kind: 'anthropic', apiKey: 'sk-ant-test-abcdef123456' });

async function setup(handler: Handler, config: Partial<ProviderConfig> = {}) {
  const { server, adapter } = await start(handler, config);
  return { server, adapter, native: adapter as Required<Pick<ProviderAdapter, 'createMessage' | 'streamMessage'>> };
}

/** A web search request as Claude Code sends one: a server tool, a typed client tool, a beta. */
const request: AnthropicMessageRequest = {
  model: 'claude-sonnet-5-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Latest Node release?' }],
  tools: [
    { type: 'web_search_20250305', name: 'web_search', max_uses: 2 },
    { type: 'bash_20250124', name: 'bash' },
  ],
  container: 'container_011CPR5CNjB747bTd36fQLFk',
  betas: ['context-management-2025-06-27'],
};

const webSearchMessage = {
  ...textMessage,
  content: [
    { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'node release' } },
    {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_01',
      content: [{ type: 'web_search_result', url: 'https://nodejs.org', title: 'Node', encrypted_content: 'e1' }],
    },
    {
      type: 'text',
      text: 'Node 24.',
      citations: [{ type: 'web_search_result_location', url: 'https://nodejs.org', cited_text: 'Node 24' }],
    },
  ],
  stop_reason: 'pause_turn',
  a_field_of_tomorrow: { kept: true },
};

async function collect(events: AsyncIterable<AnthropicSseEvent>): Promise<AnthropicSseEvent[]> {
  const out: AnthropicSseEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('AnthropicAdapter, natively', () => {
  it('createMessage: sends the body as it is (betas as the header, after the configured ones), answers as it came', async () => {
    const { server, native } = await setup((_req, res) => sendJson(res, 200, webSearchMessage), {
      options: { headers: { 'anthropic-beta': 'files-api-2025-04-14' } },
    });
    const message = await native.createMessage(request, callContext());
    expect(message).toEqual(webSearchMessage);
    const { betas: _betas, ...body } = request;
    expect(server.requests[0].body).toEqual({ ...body, stream: false });
    expect(server.requests[0].headers).toMatchObject({
      'anthropic-beta': 'files-api-2025-04-14,context-management-2025-06-27',
      'x-request-id': 'req-test-1',
    });
  });

  it("createMessage: Anthropic's 400 is the client's error, with Anthropic's message", async () => {
    const { native } = await setup((_req, res) =>
      sendJson(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'tools.0: Input tag did not match' },
      }),
    );
    const error = await native.createMessage(request, callContext()).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 400, retryable: false, message: expect.stringContaining('Input tag') });
  });

  it('streamMessage: every event as it came, pings and event types newer than the SDK included', async () => {
    const wire: Array<[string, unknown]> = [
      [textStream[0].type, textStream[0]],
      ['ping', { type: 'ping' }],
      ['content_block_future', { type: 'content_block_future', index: 0 }],
      ...textStream.slice(1).map((e): [string, unknown] => [e.type, e]),
    ];
    const { server, native } = await setup((_req, res) => sendSse(res, wire));
    const events = await collect(native.streamMessage(request, callContext()));
    expect(events).toEqual(wire.map(([event, data]) => ({ event, data })));
    expect(server.requests[0].body).toMatchObject({ stream: true, tools: request.tools });
  });

  it.each<[string, object[]]>([
    ['a delta before its block starts', [textStream[0], textStream[2]]],
    ['a second message_start', [textStream[0], textStream[0]]],
    ['a delta that is null', [textStream[0], textStream[1], { ...textStream[2], delta: null }]],
    ['message_delta without usage', [textStream[0], { type: 'message_delta', delta: { stop_reason: 'end_turn' } }]],
    ['a block stopped that never started', [textStream[0], { type: 'content_block_stop', index: 3 }]],
  ])('streamMessage: %s is an invalid answer (a 502), not relayed', async (_name, events) => {
    const { native } = await setup((_req, res) =>
      sendSse(
        res,
        events.map((e) => [(e as { type: string }).type, e]),
      ),
    );
    const error = await (async () => {
      for await (const _event of native.streamMessage(request, callContext()));
    })().catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'upstream_error',
      status: 502,
      message: expect.stringContaining('the stream sent'),
    });
  });

  it('streamMessage: an error event after the first ones fails the stream with the status its type stands for', async () => {
    const { native } = await setup((_req, res) =>
      sendSse(res, [
        ['message_start', textStream[0]],
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ]),
    );
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of native.streamMessage(request, callContext())) seen.push(event.event);
    })().catch((err: unknown) => err);
    expect(seen).toEqual(['message_start']);
    expect(error).toMatchObject({
      code: 'service_unavailable',
      status: 503,
      retryable: true,
      message: expect.stringContaining('Overloaded'),
    });
  });

  it('streamMessage: a stream that ends before message_stop is a retryable upstream failure', async () => {
    const { native } = await setup((_req, res) =>
      sendSse(
        res,
        textStream.slice(0, 3).map((e): [string, unknown] => [e.type, e]),
      ),
    );
    const error = await collect(native.streamMessage(request, callContext())).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true, message: expect.stringContaining('ended') });
  });

  it('streamMessage: an event that is not JSON is an invalid response', async () => {
    const { native } = await setup((_req, res) => sendSse(res, [['message_start', '<html>']]));
    const error = await collect(native.streamMessage(request, callContext())).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('invalid response') });
  });

  it('streamMessage: a client abort ends the upstream call', async () => {
    const { native } = await setup((_req, res) => sendSse(res, [['message_start', textStream[0]]], false));
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _event of native.streamMessage(request, callContext(controller.signal))) controller.abort();
    })().catch((err: unknown) => err);
    expect(isClientAbort(error)).toBe(true);
  });
});
