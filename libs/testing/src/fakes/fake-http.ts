import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeBehaviour, FakeReply, RecordedRequest } from './fake-upstream.types';
import { formatSseEvent, type SseEvent, SseWriter } from './sse-writer';

export type BodyReply = Extract<FakeReply, { kind: 'body' }>;
export type SseReply = Extract<FakeReply, { kind: 'sse' }>;

/** Per-response flags shared between the writers and the request recorder. */
export interface ResponseState {
  /** The fake destroyed the socket on purpose (`dropStreamAfter`): not a client abort. */
  dropped: boolean;
}

export function isStreamRequest(record: RecordedRequest): boolean {
  const body = record.body;
  return typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true;
}

export function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function encodeBody(reply: BodyReply): { payload: Buffer; headers: Record<string, string> } {
  const isText = typeof reply.body === 'string';
  const payload = Buffer.from(isText ? String(reply.body) : JSON.stringify(reply.body ?? null));
  const headers = {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    ...reply.headers,
    'content-length': String(payload.length),
  };
  return { payload, headers };
}

/** Writes a whole body reply. */
export function writeBody(res: ServerResponse, record: RecordedRequest, reply: BodyReply): void {
  const { payload, headers } = encodeBody(reply);
  record.status = reply.status ?? 200;
  res.writeHead(record.status, headers);
  res.end(payload);
}

/** Writes the headers (announcing the full length) and half the body, then cuts the socket. */
export async function writeHalfBody(
  res: ServerResponse,
  record: RecordedRequest,
  reply: BodyReply,
  state: ResponseState,
): Promise<void> {
  const { payload, headers } = encodeBody(reply);
  record.status = reply.status ?? 200;
  res.writeHead(record.status, headers);
  await new SseWriter(res).writeRaw(payload.subarray(0, Math.floor(payload.length / 2)));
  state.dropped = true;
  res.destroy();
}

/** Streams the events, honouring `chunkDelayMs`, `commentsFirst`, `dropStreamAfter`, `streamErrorAfter` and `cutStreamAfter`. */
export async function writeSse(
  res: ServerResponse,
  record: RecordedRequest,
  reply: SseReply,
  behaviour: FakeBehaviour,
  io: { signal: AbortSignal; state: ResponseState; errorEvent: () => SseEvent },
): Promise<void> {
  const writer = new SseWriter(res);
  record.status = 200;
  writer.open(reply.headers);
  const { dropStreamAfter, streamErrorAfter, cutStreamAfter, chunkDelayMs, commentsFirst } = behaviour;
  if (commentsFirst) await writeComments(writer, commentsFirst, io.signal);
  for (const [index, event] of reply.events.entries()) {
    if (index === dropStreamAfter) break;
    if (index === cutStreamAfter) {
      const frame = formatSseEvent(event);
      await writer.writeRaw(frame.slice(0, Math.floor(frame.length / 2)));
      writer.end();
      return;
    }
    if (index === streamErrorAfter) {
      await writer.send(behaviour.body === undefined ? io.errorEvent() : { data: behaviour.body });
      writer.end();
      return;
    }
    if (index > 0 && chunkDelayMs) await sleep(chunkDelayMs, io.signal);
    if (io.signal.aborted) return;
    await writer.send(event);
  }
  if (dropStreamAfter === undefined) {
    writer.end();
    return;
  }
  io.state.dropped = true;
  res.destroy();
}

/** SSE comment lines every `everyMs` for `forMs` (cut short when the client leaves). */
async function writeComments(
  writer: SseWriter,
  { forMs, everyMs }: { forMs: number; everyMs: number },
  signal: AbortSignal,
): Promise<void> {
  const until = Date.now() + forMs;
  while (!signal.aborted && Date.now() < until) {
    await writer.writeRaw(': OPENROUTER PROCESSING\n\n');
    await sleep(Math.min(everyMs, until - Date.now()), signal);
  }
}

/** A JSON object reply grown to about `size` bytes by a `padding` string, written 1 MiB at a time (chunked). */
export async function writePaddedBody(
  res: ServerResponse,
  record: RecordedRequest,
  reply: BodyReply,
  size: number,
  signal: AbortSignal,
): Promise<void> {
  const json = JSON.stringify(reply.body);
  if (!json.startsWith('{') || json === '{}') throw new Error('padBodyTo needs a non-empty JSON object reply');
  record.status = reply.status ?? 200;
  res.writeHead(record.status, { 'content-type': 'application/json', ...reply.headers });
  const writer = new SseWriter(res);
  await writer.writeRaw(`${json.slice(0, -1)},"padding":"`);
  const piece = Buffer.alloc(1024 * 1024, 0x78); // "x"
  for (let left = size - json.length; left > 0 && !signal.aborted && !res.destroyed; left -= piece.length) {
    await writer.writeRaw(left >= piece.length ? piece : piece.subarray(0, left));
  }
  await writer.writeRaw('"}');
  writer.end();
}
