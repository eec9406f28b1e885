import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible upstream that misbehaves at random, in every way the
 * gateway must survive: errors (500, 429 with `retry-after`, an HTML 502 page),
 * a request it never answers, a connection dropped before the answer or in the
 * middle of a stream, a body that is not JSON, a stream event that is not JSON,
 * a slow answer. About a third of the calls are answered well. It counts what it
 * did, by behaviour.
 */
export const BEHAVIOURS = [
  'ok',
  'error-500',
  'rate-limited-429',
  'hang',
  'garbage',
  'connection-dropped',
  'dropped-mid-stream',
  'bad-event',
  'slow',
  'html-502',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** The share of calls each behaviour gets (the rest is `ok`). */
const SHARES: Array<[Behaviour, number]> = [
  ['error-500', 0.1],
  ['rate-limited-429', 0.1],
  ['hang', 0.06],
  ['garbage', 0.08],
  ['connection-dropped', 0.06],
  ['dropped-mid-stream', 0.08],
  ['bad-event', 0.08],
  ['slow', 0.07],
  ['html-502', 0.07],
];

const MODELS = '{"object":"list","data":[{"id":"chaos-model","object":"model","created":0,"owned_by":"chaos"}]}';
const ANSWER = JSON.stringify({
  id: 'chatcmpl-chaos',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'chaos-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const event = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-chaos',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'chaos-model',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
const STREAM = `${event('o')}${event('k', 'stop')}data: [DONE]\n\n`;

function pick(): Behaviour {
  let r = Math.random();
  for (const [behaviour, share] of SHARES) {
    if (r < share) return behaviour;
    r -= share;
  }
  return 'ok';
}

function answer(res: ServerResponse, stream: boolean): void {
  if (stream) res.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAM);
  else res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
}

function behave(behaviour: Behaviour, req: IncomingMessage, res: ServerResponse, stream: boolean): void {
  const json = (status: number, body: string, headers: Record<string, string> = {}): void =>
    void res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  switch (behaviour) {
    case 'ok':
      return answer(res, stream);
    case 'error-500':
      return json(500, '{"error":{"message":"The server had an error","type":"server_error"}}');
    case 'rate-limited-429':
      return json(429, '{"error":{"message":"Rate limit reached","type":"requests"}}', { 'retry-after': '0' });
    case 'hang':
      return;
    case 'garbage':
      if (stream) res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"choices": [tru\n\n');
      else json(200, '{"choices": [tru');
      return;
    case 'connection-dropped':
      req.socket.destroy();
      return;
    case 'dropped-mid-stream':
      if (!stream) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(event('par'));
      setTimeout(() => req.socket.destroy(), 5);
      return;
    case 'bad-event':
      if (!stream) return json(200, '[]');
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(event('a'));
      setTimeout(() => res.end('data: <html>oops</html>\n\n'), 2);
      return;
    case 'slow':
      setTimeout(() => answer(res, stream), 100);
      return;
    case 'html-502':
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
      return;
  }
}

export async function startChaosUpstream(): Promise<{
  url: string;
  counts: Map<Behaviour, number>;
  close: () => Promise<void>;
}> {
  const counts = new Map<Behaviour, number>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end(MODELS);
      const behaviour = pick();
      counts.set(behaviour, (counts.get(behaviour) ?? 0) + 1);
      behave(behaviour, req, res, Buffer.concat(parts).includes('"stream":true'));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    counts,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
