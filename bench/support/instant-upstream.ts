import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The fastest OpenAI-compatible upstream we can write: it reads the body and
 * answers a fixed chat completion (JSON or SSE) at once, recording nothing, so
 * the benchmark measures the gateway and not the fake. A streamed request whose
 * body holds {@link PACED_MARKER} is answered as a model writes: PACED_EVENTS
 * events, each in its own write, PACED_INTERVAL_MS apart.
 */
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench-model',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello from the instant upstream.' }, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});
export const PACED_MARKER = '[paced]';
export const PACED_EVENTS = 100;
const PACED_INTERVAL_MS = 1;
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usageChunk = (completionTokens: number) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench-model', choices: [], usage: { prompt_tokens: 12, completion_tokens: completionTokens, total_tokens: 12 + completionTokens } })}\n\n`;
const stream =
  chunk({ role: 'assistant', content: '' }, null) +
  ['Hello', ' from', ' the', ' instant', ' upstream.'].map((word) => chunk({ content: word }, null)).join('') +
  chunk({}, 'stop') +
  usageChunk(7) +
  'data: [DONE]\n\n';
const pacedEvents = [
  chunk({ role: 'assistant', content: '' }, null),
  ...Array.from({ length: PACED_EVENTS - 3 }, (_, i) => chunk({ content: i % 2 ? ' word' : ' token' }, null)),
  chunk({}, 'stop'),
  usageChunk(PACED_EVENTS - 3) + 'data: [DONE]\n\n',
];

/** One event per write, as a model's tokens arrive: each leaves in its own packet. */
function pace(res: ServerResponse, next = 0): void {
  if (res.destroyed) return;
  if (next === pacedEvents.length - 1) {
    res.end(pacedEvents[next]);
    return;
  }
  res.write(pacedEvents[next]);
  setTimeout(pace, PACED_INTERVAL_MS, res, next + 1);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    if (req.method === 'GET' && req.url?.endsWith('/models')) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"object":"list","data":[{"id":"bench-model","object":"model","created":0,"owned_by":"bench"}]}');
      return;
    }
    const body = Buffer.concat(parts);
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (body.includes(PACED_MARKER)) pace(res);
      else res.end(stream);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion);
    }
  });
}

export async function startInstantUpstream(port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (require.main === module) {
  void startInstantUpstream(Number(process.argv[2] ?? 0)).then(({ url }) => process.stdout.write(`${url}\n`));
}
