import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { call } from '../support/tenancy';

// Events as an OpenAI-compatible server may write them: spacing, key order and number
// forms of its own, a vendor field, and one event's JSON spread over two `data:` lines.
// The first carries `usage: null` as OpenAI's do (the gateway asks every upstream for usage);
// the second does not, as some OpenAI-compatible servers' don't.
const FIRST =
  '{"id":"chatcmpl-1", "object":"chat.completion.chunk","created":1,"model":"vendor-model","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}],"x_vendor_score":1.50,"usage":null}';
const SPLIT = [
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"vendor-model",',
  '"choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}]}',
];
const USAGE =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"vendor-model","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}';

/** An OpenAI-compatible upstream answering every chat stream with the events above. */
function vendorUpstream(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${FIRST}\n\ndata: ${SPLIT[0]}\ndata: ${SPLIT[1]}\n\ndata: ${USAGE}\n\ndata: [DONE]\n\n`);
    });
  });
}

describe('stream events through the gateway', () => {
  const upstream = vendorUpstream();
  let platform: TestPlatform;

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    platform = await startPlatform({
      apps: ['gateway'],
      env: { OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
    });
  });
  afterAll(async () => {
    await platform?.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  async function frames(includeUsage: boolean): Promise<string[]> {
    const res = await call<string>(`${platform.gatewayUrl}/v1/chat/completions`, {
      token: TEST_MASTER_KEY,
      body: {
        model: 'openai/vendor-model',
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: 'user', content: 'Hi' }],
      },
    });
    expect(res.status).toBe(200);
    return res.body.split('\n\n').filter(Boolean);
  }

  it('pass unchanged events through as the upstream wrote them, and the rest on one line each', async () => {
    expect(await frames(true)).toEqual([
      `data: ${FIRST}`,
      // Two `data:` lines make one event; the gateway writes it on one line, with the
      // `usage: null` a client that asked for usage gets on every chunk but the last.
      `data: ${JSON.stringify({ ...JSON.parse(SPLIT.join('\n')), usage: null })}`,
      `data: ${USAGE}`,
      'data: [DONE]',
    ]);
    // Without include_usage the usage-only event is dropped.
    expect(await frames(false)).toEqual([
      `data: ${FIRST}`,
      `data: ${JSON.stringify(JSON.parse(SPLIT.join('\n')))}`,
      'data: [DONE]',
    ]);
  });

  it('which the official client reads as usual', async () => {
    const client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'openai/vendor-model',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Hi there');
    expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });
});
