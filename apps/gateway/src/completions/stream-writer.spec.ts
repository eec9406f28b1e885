import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '@app/auth';
import {
  chatChunkReader,
  chatChunksToAnthropicEvents,
  relayStream,
  requestContext,
  type StreamEnd,
} from '@app/completions';
import { type ChatChunk, GatewayError } from '@app/contracts';
import { createProviderAdapter } from '@app/providers';
import { FakeOpenAIServer } from '@app/testing';
import { anthropicErrorBody, writeSse } from './stream-writer';

const principal: Principal = { kind: 'master', role: 'admin', teamId: null, label: 'master', allowedModels: [] };
const WORDS = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');

/**
 * The SSE writer over a relay of a real upstream stream (an OpenAI-compatible
 * adapter calling a fake upstream), serving a real HTTP response. Whatever stops
 * the writing, the relay is closed: the upstream call ends and the request's end
 * is reported once.
 */
describe('writeSse over a stream relay', () => {
  const upstream = new FakeOpenAIServer();
  let adapter: ReturnType<typeof createProviderAdapter>;
  let server: Server;
  let url: string;
  let ends: StreamEnd[];
  let thrown: unknown[];
  /** The response headers the writer is given: set per test. */
  let headers: Record<string, string>;
  let format: 'openai' | 'anthropic';

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = requestContext(Object.assign(req, { principal }), res, 'chat');
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi' }], stream: true };
    const stream = adapter.chatStream(request, { signal: ctx.signal, requestId: 'r-1' });
    const rest = stream[Symbol.asyncIterator]();
    const first = await rest.next();
    const chunks = relayStream<ChatChunk>(first.done ? undefined : first.value, rest, chatChunkReader, {
      includeUsage: false,
      promptEstimate: 3,
      ctx,
      onEnd: (end) => ends.push(end),
    });
    try {
      if (format === 'openai') await writeSse(res, headers, chunks, format);
      else await writeSse(res, headers, chatChunksToAnthropicEvents(chunks, 'gpt-4o-mini'), format);
    } catch (error) {
      // As the app's error handler does: the headers never went out, so a JSON error can.
      thrown.push(error);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"Internal error"}}');
    }
  }

  beforeAll(async () => {
    await upstream.start();
    adapter = createProviderAdapter({
      name: 'up',
      kind: 'openai-compatible',
      baseUrl: upstream.baseURL,
      apiKey: 'sk-up',
    });
    server = createServer((req, res) => {
      serve(req, res).catch((error: unknown) => {
        thrown.push(error);
        res.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await adapter?.close();
    await new Promise((resolve) => server.close(resolve));
    await upstream.close();
  });
  beforeEach(() => {
    upstream.reset();
    // A long upstream stream: one word every 100 ms.
    upstream.setDefaultBehaviour({ text: WORDS, chunkDelayMs: 100 });
    ends = [];
    thrown = [];
  });

  /** Waits until the upstream request has ended, and says how. */
  async function upstreamEnd(): Promise<'aborted' | 'finished'> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const request = upstream.requests.find((r) => r.path === '/v1/chat/completions');
      if (request?.aborted) return 'aborted';
      if (request?.finished) return 'finished';
      if (Date.now() > deadline) throw new Error('the upstream request did not end');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it.each(['openai', 'anthropic'] as const)(
    'closes the upstream call and reports the end when the headers cannot be written (%s)',
    async (kind) => {
      format = kind;
      // Node refuses a header value with a line break: writeHead throws.
      headers = { 'x-gateway-model': 'gpt-4o-mini\r\nx-injected: 1' };
      const res = await fetch(url);
      expect(res.status).toBe(500);
      await res.text();
      expect(thrown).toEqual([expect.objectContaining({ code: 'ERR_INVALID_CHAR' })]);
      expect(await upstreamEnd()).toBe('aborted');
      expect(ends).toEqual([expect.objectContaining({ status: 500, errorCode: 'internal_error' })]);
    },
  );

  it('relays the whole stream and reports it once when nothing fails', async () => {
    format = 'openai';
    headers = { 'x-gateway-model': 'gpt-4o-mini' };
    upstream.setDefaultBehaviour({ text: 'one two three', chunkDelayMs: 10 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('"content":"three"');
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await upstreamEnd()).toBe('finished');
    expect(ends).toEqual([expect.objectContaining({ status: 200, modelServed: 'gpt-4o-mini' })]);
    expect(thrown).toEqual([]);
  });
});

describe('anthropicErrorBody: the error types Anthropic documents, by status', () => {
  it.each([
    [new GatewayError('invalid_request_error', 'bad'), 'invalid_request_error'],
    [new GatewayError('upstream_error', 'no credit', { status: 402 }), 'billing_error'],
    [new GatewayError('model_not_found', 'no such model'), 'not_found_error'],
    [new GatewayError('rate_limit_exceeded', 'slow down'), 'rate_limit_error'],
    [new GatewayError('upstream_error', 'upstream failed'), 'api_error'],
    [new GatewayError('no_provider_available', 'all down'), 'overloaded_error'],
    [new GatewayError('upstream_timeout', 'too slow'), 'timeout_error'],
  ])('%s -> %s', (error, type) => {
    expect(anthropicErrorBody(error)).toMatchObject({ type: 'error', error: { type, message: error.message } });
  });
});
