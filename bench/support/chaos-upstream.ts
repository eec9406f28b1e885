import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible upstream that misbehaves at random, in every way the
 * gateway must survive: errors (500, 429 with `retry-after`, an HTML 502 page),
 * a request it never answers, a connection dropped before the answer or in the
 * middle of a stream, a body that is not JSON, a stream event that is not JSON,
 * an error event in the middle of a stream (529 for a JSON call), a slow answer.
 * About a quarter of the calls are answered well. It counts what it did, by behaviour.
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
  'error-event',
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
  ['bad-event', 0.06],
  ['error-event', 0.05],
  ['slow', 0.07],
  ['html-502', 0.07],
];

/** What an upstream of one wire protocol sends for each behaviour. */
interface Dialect {
  models: string;
  /** The good answers to a call of that path. */
  replies(path: string): Replies;
  /** An error event inside a 200 stream. */
  errorEvent: string;
  error(status: number, message: string): string;
}

interface Replies {
  answer: string;
  stream: string;
  /** The stream's first event, for the behaviours that fail after it. */
  firstEvent: string;
}

const BASE = { created: 1_700_000_000, model: 'chaos-model' };
const USAGE = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
const data = (value: object) => `data: ${JSON.stringify(value)}\n\n`;
const chatEvent = (content: string, finish: string | null = null) =>
  data({
    id: 'chatcmpl-chaos',
    object: 'chat.completion.chunk',
    ...BASE,
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  });
const textEvent = (text: string, finish: string | null = null) =>
  data({ id: 'cmpl-chaos', object: 'text_completion', ...BASE, choices: [{ index: 0, text, finish_reason: finish }] });

const CHAT: Replies = {
  answer: JSON.stringify({
    id: 'chatcmpl-chaos',
    object: 'chat.completion',
    ...BASE,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: USAGE,
  }),
  stream: `${chatEvent('o')}${chatEvent('k', 'stop')}data: [DONE]\n\n`,
  firstEvent: chatEvent('par'),
};
const LEGACY: Replies = {
  answer: JSON.stringify({
    id: 'cmpl-chaos',
    object: 'text_completion',
    ...BASE,
    choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }],
    usage: USAGE,
  }),
  stream: `${textEvent('o')}${textEvent('k', 'stop')}data: [DONE]\n\n`,
  firstEvent: textEvent('par'),
};
const EMBEDDINGS: Replies = {
  answer: JSON.stringify({
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }],
    model: 'chaos-model',
    usage: { prompt_tokens: 1, total_tokens: 1 },
  }),
  stream: '',
  firstEvent: '',
};

const OPENAI: Dialect = {
  models: '{"object":"list","data":[{"id":"chaos-model","object":"model","created":0,"owned_by":"chaos"}]}',
  replies: (path) => (path.endsWith('/embeddings') ? EMBEDDINGS : path.endsWith('/chat/completions') ? CHAT : LEGACY),
  errorEvent: 'data: {"error":{"message":"The server had an error","type":"server_error"}}\n\n',
  error: (status, message) =>
    JSON.stringify({ error: { message, type: status === 429 ? 'requests' : 'server_error' } }),
};

const anthropicEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const ANTHROPIC_START = anthropicEvent('message_start', {
  message: {
    id: 'msg_chaos',
    type: 'message',
    role: 'assistant',
    model: 'chaos-model',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 1 },
  },
});

const ANTHROPIC_REPLIES: Replies = {
  answer: JSON.stringify({
    id: 'msg_chaos',
    type: 'message',
    role: 'assistant',
    model: 'chaos-model',
    content: [{ type: 'text', text: 'ok' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 1 },
  }),
  stream: [
    ANTHROPIC_START,
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'ok' } }),
    anthropicEvent('content_block_stop', { index: 0 }),
    anthropicEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 1 },
    }),
    anthropicEvent('message_stop', {}),
  ].join(''),
  firstEvent: ANTHROPIC_START,
};

const ANTHROPIC: Dialect = {
  models: JSON.stringify({
    data: [{ type: 'model', id: 'chaos-model', display_name: 'Chaos', created_at: '2026-01-01T00:00:00Z' }],
    has_more: false,
    first_id: 'chaos-model',
    last_id: 'chaos-model',
  }),
  replies: () => ANTHROPIC_REPLIES,
  errorEvent: anthropicEvent('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
  error: (status, message) =>
    JSON.stringify({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message } }),
};

function pick(): Behaviour {
  let r = Math.random();
  for (const [behaviour, share] of SHARES) {
    if (r < share) return behaviour;
    r -= share;
  }
  return 'ok';
}

function behave(
  dialect: Dialect,
  behaviour: Behaviour,
  req: IncomingMessage,
  res: ServerResponse,
  stream: boolean,
): void {
  const json = (status: number, body: string, headers: Record<string, string> = {}): void =>
    void res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream' });
  const replies = dialect.replies(req.url ?? '');
  const answer = () => (stream ? void sse().end(replies.stream) : json(200, replies.answer));
  switch (behaviour) {
    case 'ok':
      return answer();
    case 'error-500':
      return json(500, dialect.error(500, 'The server had an error'));
    case 'rate-limited-429':
      return json(429, dialect.error(429, 'Rate limit reached'), { 'retry-after': '0' });
    case 'hang':
      return;
    case 'garbage':
      if (stream) sse().end('data: {"choices": [tru\n\n');
      else json(200, '{"choices": [tru');
      return;
    case 'connection-dropped':
      req.socket.destroy();
      return;
    case 'dropped-mid-stream':
      if (!stream) return void req.socket.destroy();
      sse().write(replies.firstEvent);
      setTimeout(() => req.socket.destroy(), 5);
      return;
    case 'bad-event':
      if (!stream) return json(200, '[]');
      sse().write(replies.firstEvent);
      setTimeout(() => res.end('data: <html>oops</html>\n\n'), 2);
      return;
    case 'error-event':
      if (!stream) return json(529, dialect.error(529, 'Overloaded'));
      sse().write(replies.firstEvent);
      setTimeout(() => res.end(dialect.errorEvent), 2);
      return;
    case 'slow':
      setTimeout(answer, 100);
      return;
    case 'html-502':
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
      return;
  }
}

/**
 * A chaos upstream speaking OpenAI's wire protocol (chat and legacy completions,
 * embeddings) or Anthropic's (`/v1/messages`).
 */
export async function startChaosUpstream(protocol: 'openai' | 'anthropic'): Promise<{
  url: string;
  counts: Map<Behaviour, number>;
  close: () => Promise<void>;
}> {
  const counts = new Map<Behaviour, number>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const dialect = protocol === 'openai' ? OPENAI : ANTHROPIC;
      if (req.method === 'GET')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(dialect.models);
      const behaviour = pick();
      counts.set(behaviour, (counts.get(behaviour) ?? 0) + 1);
      behave(dialect, behaviour, req, res, Buffer.concat(parts).includes('"stream":true'));
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
