import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, usageRecord } from '../support/tenancy';

const chunk = (content: string) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-pressure',
    object: 'chat.completion.chunk',
    created: 1_760_000_000,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
const finish = `data: ${JSON.stringify({
  id: 'chatcmpl-pressure',
  object: 'chat.completion.chunk',
  created: 1_760_000_000,
  model: 'm',
  choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
})}\n\n`;
const anthropicEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
/** A whole Anthropic message stream, up to its message_stop. */
const anthropicWhole = [
  anthropicEvent('message_start', {
    message: {
      id: 'msg_pressure',
      type: 'message',
      role: 'assistant',
      model: 'stophang',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 1 },
    },
  }),
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'whole' } }),
  anthropicEvent('content_block_stop', { index: 0 }),
  anthropicEvent('message_delta', {
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 2 },
  }),
  anthropicEvent('message_stop', {}),
].join('');
/** ~1 KB of text per event. */
const PIECE = 'x'.repeat(1_000);
const BIG_EVENTS = 20_000;
const ENDLESS_EVENTS = 256_000;

/**
 * An OpenAI-compatible upstream whose model name picks its behaviour: `big` streams
 * ~20 MB at once, `endless` streams for as long as it is read (up to 256 MB), `donehang` streams its answer and `[DONE]` but never ends the
 * response, `held` sends an event every 200 ms for 1.5 s, `slowjson` answers after 2 s.
 * Records each chat request's model, `accept-encoding` and whether it was cut off.
 */
function pressureUpstream(seen: Array<{ model: string; encoding?: string; cutOff?: boolean }>): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (part: Buffer) => (text += part.toString()));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
        return;
      }
      const body = JSON.parse(text) as { model: string };
      const record: (typeof seen)[number] = { model: body.model, encoding: req.headers['accept-encoding'] };
      seen.push(record);
      res.on('close', () => (record.cutOff = !res.writableFinished));
      if (body.model === 'slowjson') {
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              id: 'chatcmpl-slow',
              object: 'chat.completion',
              created: 1_760_000_000,
              model: 'slowjson',
              choices: [{ index: 0, message: { role: 'assistant', content: 'late' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
            }),
          );
        }, 2_000);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (body.model === 'stophang') {
        res.write(anthropicWhole); // and never ends
        return;
      }
      if (body.model === 'big') {
        for (let i = 0; i < BIG_EVENTS; i++) res.write(chunk(PIECE));
        res.end(`${finish}data: [DONE]\n\n`);
      } else if (body.model === 'endless') {
        // As fast as the gateway takes it, until it leaves: more than any socket buffers hold (256 MB at most).
        let sent = 0;
        const pump = (): void => {
          while (!res.destroyed && sent < ENDLESS_EVENTS) {
            sent++;
            if (!res.write(chunk(PIECE))) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end(`${finish}data: [DONE]\n\n`);
        };
        pump();
      } else if (body.model === 'donehang') {
        res.write(`${chunk('whole')}${finish}data: [DONE]\n\n`); // and never ends
      } else {
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          if (++sent < 8) return void res.write(chunk('tick'));
          clearInterval(timer);
          res.end(`${finish}data: [DONE]\n\n`);
        }, 200);
      }
    });
  });
}

/** Pressure on the gateway's side of an upstream call is never held against the upstream. */
describe('gateway under pressure from its own clients', () => {
  const seen: Array<{ model: string; encoding?: string; cutOff?: boolean }> = [];
  const upstream = pressureUpstream(seen);
  let platform: TestPlatform;
  const chat = (model: string, headers: Record<string, string> = {}) =>
    call(`${platform.gatewayUrl}/v1/chat/completions`, {
      token: TEST_MASTER_KEY,
      headers,
      body: { model, messages: [{ role: 'user', content: 'hi' }], stream: true },
    });
  const circuit = async (name: string) =>
    (
      (await call(`${platform.gatewayUrl}/v1/providers`, { token: TEST_MASTER_KEY })).body.data as Array<{
        name: string;
        circuit: string;
      }>
    ).find((p) => p.name === name)?.circuit;

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    platform = await startPlatform({ env: { CIRCUIT_FAILURE_THRESHOLD: '2', UPSTREAM_MAX_RETRIES: '0' } });
    const api = adminApi(platform);
    for (const [name, timeoutMs] of [
      ['brisk', 1_000],
      ['patient', 5_000],
    ] as const) {
      const res = await api.post('/api/providers', {
        name,
        kind: 'openai-compatible',
        baseUrl,
        apiKey: 'k',
        timeoutMs,
      });
      expect(res.status).toBe(201);
    }
    const anthropic = await api.post('/api/providers', {
      name: 'patient-anthropic',
      kind: 'anthropic',
      baseUrl: baseUrl.replace(/\/v1$/, ''),
      apiKey: 'k',
      timeoutMs: 5_000,
    });
    expect(anthropic.status).toBe(201);
  });
  afterAll(async () => {
    await platform?.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('asks for the body uncompressed (it is read as it comes)', async () => {
    expect((await chat('brisk/held')).status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ model: 'held', encoding: 'identity' });
  });

  it('lets a client read a stream as slowly as it likes: its back-pressure is not the upstream timing out', async () => {
    const port = new URL(platform.gatewayUrl).port;
    const body = JSON.stringify({ model: 'brisk/big', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
        },
        (res) => {
          let received = '';
          res.setEncoding('utf8');
          res.on('data', (part: string) => {
            if (received === '') {
              // Three times the upstream's 1 s timeout without reading a byte.
              res.pause();
              setTimeout(() => res.resume(), 3_000);
            }
            received += part;
          });
          res.on('end', () => resolve(received));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(text).not.toContain('"error"');
    expect(text.split(PIECE).length - 1).toBe(BIG_EVENTS);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await circuit('brisk')).toBe('closed');
  }, 30_000);

  it('gives up on a client that stops reading for long (five times the upstream timeout): 499, not the upstream', async () => {
    const port = new URL(platform.gatewayUrl).port;
    // An answer longer than the socket buffers between gateway and client can hold (up to 32 MB here), however they grow.
    const body = JSON.stringify({ model: 'brisk/endless', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const started = Date.now();
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/v1/chat/completions',
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_MASTER_KEY}`,
        'content-type': 'application/json',
        'x-request-id': 'pressure-stalled',
      },
    });
    req.on('response', (res) => {
      res.once('data', () => res.pause()); // and never reads again
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end(body);
    try {
      // The provider's timeout is 1 s: the client is given up on after ~5 s of reading nothing.
      expect(await usageRecord(platform, 'pressure-stalled', 150)).toMatchObject({ status: 499 });
      expect(Date.now() - started).toBeLessThan(12_000);
      expect(await circuit('brisk')).toBe('closed');
    } finally {
      req.destroy();
    }
  }, 30_000);

  it('ends a stream whose upstream sent [DONE] but keeps the response open, as a success, without waiting it out', async () => {
    const started = Date.now();
    const res = await chat('patient/donehang', { 'x-request-id': 'pressure-donehang' });
    expect(Date.now() - started).toBeLessThan(3_000); // the provider's timeout is 5 s
    expect(res.status).toBe(200);
    expect(res.body).toContain('whole');
    expect(res.body).not.toContain('"error"');
    expect(String(res.body).trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await usageRecord(platform, 'pressure-donehang')).toMatchObject({ status: 200 });
    expect(await circuit('patient')).toBe('closed');
  });

  it('ends an Anthropic stream whose upstream sent message_stop but keeps the response open, native and translated', async () => {
    const started = Date.now();
    const native = await call(`${platform.gatewayUrl}/v1/messages`, {
      token: TEST_MASTER_KEY,
      headers: { 'x-request-id': 'pressure-stophang-native' },
      body: {
        model: 'patient-anthropic/stophang',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      },
    });
    expect(native.status).toBe(200);
    expect(native.body).toContain('event: message_stop');
    expect(native.body).not.toContain('event: error');
    const translated = await chat('patient-anthropic/stophang', { 'x-request-id': 'pressure-stophang-chat' });
    expect(translated.status).toBe(200);
    expect(translated.body).toContain('whole');
    expect(translated.body).not.toContain('"error"');
    expect(Date.now() - started).toBeLessThan(4_500); // two waits of at most ~1 s, not two 5 s timeouts
    expect(await usageRecord(platform, 'pressure-stophang-native')).toMatchObject({ status: 200 });
    expect(await usageRecord(platform, 'pressure-stophang-chat')).toMatchObject({ status: 200 });
    expect(await circuit('patient-anthropic')).toBe('closed');
  });

  it('opens as many upstream connections as calls: none waits in the gateway, timing out against the provider', async () => {
    const results = await Promise.all(Array.from({ length: 140 }, () => chat('brisk/held')));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    for (const res of results) expect(res.body).not.toContain('"error"');
    expect(await circuit('brisk')).toBe('closed');
  }, 30_000);

  it('serves many pipelined requests on one connection with one close listener (no MaxListenersExceededWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const port = Number(new URL(platform.gatewayUrl).port);
      const body = JSON.stringify({ model: 'patient/held', messages: [{ role: 'user', content: 'hi' }], stream: true });
      const one =
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TEST_MASTER_KEY}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (part: Buffer) => (received += part.toString()));
      socket.write(one.repeat(15));
      await expect.poll(() => received.split('HTTP/1.1 200').length - 1, { timeout: 40_000, interval: 200 }).toBe(15);
      socket.destroy();
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);

  it('aborts a pipelined request when its client closes the connection, and records it as 499', async () => {
    const port = Number(new URL(platform.gatewayUrl).port);
    const post = (model: string, id: string, stream: boolean) => {
      const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream });
      return (
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TEST_MASTER_KEY}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\n\r\n${body}`
      );
    };
    const before = seen.length;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(post('patient/held', 'pressure-first', true) + post('patient/slowjson', 'pressure-second', false));
    await new Promise((resolve) => setTimeout(resolve, 600));
    socket.destroy();
    const second = await usageRecord(platform, 'pressure-second');
    expect(second, JSON.stringify(second)).toMatchObject({ status: 499 });
    expect(await usageRecord(platform, 'pressure-first')).toMatchObject({ status: 499 });
    const slow = seen.slice(before).find((r) => r.model === 'slowjson');
    await expect.poll(() => slow?.cutOff, { timeout: 3_000 }).toBe(true);
  });
});
