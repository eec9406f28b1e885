import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const base = { id: 'chatcmpl-q1', object: 'chat.completion.chunk', created: 1760000000, model: 'served-model' };
const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
const call = (id: string, city: string) => ({
  id,
  type: 'function',
  function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
});

/** Azure OpenAI's stream: a content-filter chunk without choices first. */
const azureStream = [
  { id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [{ prompt_index: 0 }] },
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] },
  { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { ...base, choices: [], usage },
];
/** An older Ollama's stream of two tool calls: no `index`, finished with `stop`. */
const ollamaStream = [
  {
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: '', tool_calls: [call('call_a', 'Paris')] } }],
  },
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', tool_calls: [call('call_b', 'Rome')] } }] },
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }] },
  { ...base, choices: [], usage },
];

/** The same turn answered whole: also finished with `stop` (Gemini's OpenAI layer answers so too). */
const ollamaAnswer = {
  ...base,
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: '', tool_calls: [call('call_a', 'Paris'), call('call_b', 'Rome')] },
      finish_reason: 'stop',
    },
  ],
  usage,
};

/** One upstream playing Azure (`/openai/deployments/...`) and Ollama (`/v1/...`, `/api/...`) on their wire formats. */
function lookalikeUpstream(): Server {
  const sse = (res: ServerResponse, events: unknown[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
    res.end('data: [DONE]\n\n');
  };
  return createServer((req, res) => {
    let body = '';
    req.on('data', (part: Buffer) => (body += part.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      if (req.method === 'POST' && path.startsWith('/openai/deployments/')) return sse(res, azureStream);
      if (req.method === 'POST' && path === '/v1/chat/completions' && !body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(ollamaAnswer));
      }
      if (req.method === 'POST' && path === '/v1/chat/completions') return sse(res, ollamaStream);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(path.startsWith('/api/tags') ? '{"models":[]}' : '{"version":"0.4.0"}');
    });
  });
}

/** Streams of OpenAI look-alikes reach the official SDK's stream helpers in OpenAI's shape. */
describe('gateway streams from OpenAI look-alike servers', () => {
  const upstream = lookalikeUpstream();
  let platform: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    platform = await startPlatform({});
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    for (const provider of [
      { name: 'azure', kind: 'azure-openai', baseUrl: url, apiKey: 'k', models: ['gpt-4o'] },
      { name: 'local', kind: 'ollama', baseUrl: url, models: ['llama3'] },
    ]) {
      const res = await fetch(`${platform.adminUrl}/api/providers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(provider),
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await platform?.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('azure-openai: every chunk has a choice to read, usage comes last, alone', async () => {
    const stream = await client.chat.completions.create({
      model: 'azure/gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const seen: Array<[string, number]> = [];
    for await (const chunk of stream) seen.push([chunk.object, chunk.choices.length]);
    expect(seen).toEqual([
      ['chat.completion.chunk', 1],
      ['chat.completion.chunk', 1],
      ['chat.completion.chunk', 0],
    ]);
  });

  it('ollama: the stream helper assembles tool calls streamed without index, finished as tool_calls', async () => {
    const final = await client.chat.completions
      .stream({
        model: 'local/llama3',
        messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      })
      .finalChatCompletion();
    const choice = final.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls?.map((c) => c.type === 'function' && [c.id, c.function.arguments])).toEqual([
      ['call_a', '{"city":"Paris"}'],
      ['call_b', '{"city":"Rome"}'],
    ]);
  });

  it('ollama: a JSON answer that called tools is finished as tool_calls too, as its stream is', async () => {
    const answer = await client.chat.completions.create({
      model: 'local/llama3',
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    });
    expect(answer.choices[0].finish_reason).toBe('tool_calls');
    expect(answer.choices[0].message.tool_calls?.map((c) => c.id)).toEqual(['call_a', 'call_b']);
  });
});
