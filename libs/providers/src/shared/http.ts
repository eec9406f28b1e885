import { Agent } from 'undici';

const KEEP_ALIVE_MS = 30_000;
const BACKSTOP_TIMEOUT_MS = 600_000;
/** Error bodies are kept only to read a message out of them. */
export const MAX_ERROR_BODY_CHARS = 8_192;
/**
 * Longest model list read (`/models`, Ollama's `/api/tags`, each page of Anthropic's):
 * real lists run to hundreds of KB (OpenRouter's, with descriptions and prices, ~1 MB).
 */
export const MAX_MODEL_LIST_BYTES = 8 * 1024 * 1024;
/**
 * Longest JSON answer read (chat and legacy completions, embeddings, Anthropic's
 * messages). Larger than model lists: a batch of embeddings answered as base64 runs
 * to ~34 MB (2,048 inputs of 3,072 dimensions), long answers with `top_logprobs` to
 * tens of MB. Floats are ~2.5 times base64's size: such a batch as floats is refused.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/**
 * Longest server-sent event read from a stream (its data lines, or one line of any
 * kind): a stream as a whole is not bounded, its events are passed on as they come,
 * but an upstream that keeps a stream alive with bytes must not grow one event without end.
 */
export const MAX_STREAM_EVENT_BYTES = 8 * 1024 * 1024;

/**
 * An upstream sent more than the gateway reads of one thing (an answer, a model
 * list, a stream event): the call fails as an invalid response (502), and what was
 * read so far is dropped.
 */
export class UpstreamTooLargeError extends Error {
  constructor(what: string, limit: number) {
    super(`${what} is larger than the ${limit} bytes the gateway reads`);
    this.name = 'UpstreamTooLargeError';
  }
}

/**
 * An answer, or a stream event, that is not what the provider's protocol defines
 * (`choices: [null]`, an event that is not an object, `content: [null]`): the call
 * fails as an invalid response (502), which a route falls back from before the
 * first byte reached the client.
 */
export class UpstreamShapeError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'UpstreamShapeError';
  }
}

/**
 * `read()`, translating an upstream answer: a `TypeError` it throws means a field
 * the protocol defines was missing, null or of another type, and is the answer's
 * fault ({@link UpstreamShapeError}), not the gateway's.
 */
export function readUpstream<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof TypeError)
      throw new UpstreamShapeError(`${what} is not what the protocol defines (${err.message})`);
    throw err;
  }
}

/**
 * The keep-alive connection pool of one provider, without a cap on its connections (as
 * the SDKs' default agents): a cap queued the calls past it in the gateway, where the
 * wait ran their timeout down and a timeout was held against the provider's circuit.
 * The gateway's concurrency is its clients' (and its limits').
 */
export function createDispatcher(): Agent {
  return new Agent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
    // undici's 5-minute defaults would cut long generations; the call's own timeout
    // governs, these only catch a connection nobody else is watching.
    headersTimeout: BACKSTOP_TIMEOUT_MS,
    bodyTimeout: BACKSTOP_TIMEOUT_MS,
  });
}

/** Idempotent: closing an adapter twice is harmless. In-flight requests finish first. */
export async function closeDispatcher(dispatcher: Agent): Promise<void> {
  if (dispatcher.closed || dispatcher.destroyed) return;
  await dispatcher.close();
}

/**
 * Raw text of upstream error responses, keyed by the `Headers` object the SDKs put
 * on their `APIError`. The SDKs only keep `body.error` of a JSON body, which loses the
 * message of servers that answer `{"message": ...}`, `{"detail": ...}` or HTML; the
 * error normaliser reads the raw text from here instead.
 */
const errorBodies = new WeakMap<Headers, string>();

export function upstreamErrorBody(headers: unknown): string | undefined {
  return headers instanceof Headers ? errorBodies.get(headers) : undefined;
}

type FetchInput = string | URL | Request;

/**
 * `fetch` for the SDKs: the global fetch (the dispatcher arrives in `init` through
 * the SDK's `fetchOptions`), recording the body of every error response, and with
 * every body but a stream's bounded: a GET (the SDKs' only ones list models) by
 * {@link MAX_MODEL_LIST_BYTES}, anything else by {@link MAX_ANSWER_BYTES}. Past
 * that, reading the body fails with an {@link UpstreamTooLargeError}.
 */
export async function recordingFetch(input: FetchInput, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const list = init?.method === 'GET';
  const limit = list ? MAX_MODEL_LIST_BYTES : MAX_ANSWER_BYTES;
  const head = { status: response.status, statusText: response.statusText, headers: response.headers };
  if (response.ok) {
    // A stream is bounded event by event, by whoever reads it (see `stream-activity.ts`).
    if (!response.body || response.headers.get('content-type')?.includes('text/event-stream')) return response;
    return new Response(boundedBody(response.body, limit, list ? 'the model list' : 'the answer'), head);
  }
  const text = await readText(response, limit);
  const copy = new Response(text, head);
  errorBodies.set(copy.headers, text.slice(0, MAX_ERROR_BODY_CHARS));
  return copy;
}

/** `body` as it comes, failing with an {@link UpstreamTooLargeError} once past `limit` bytes. */
function boundedBody(body: ReadableStream<Uint8Array>, limit: number, what: string): ReadableStream<Uint8Array> {
  let read = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.length;
        if (read > limit) controller.error(new UpstreamTooLargeError(what, limit));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** A response's body as text, at most `limit` bytes of it (an error body is read only for its message). */
async function readText(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  let read = 0;
  for await (const chunk of response.body) {
    const bytes = chunk as Uint8Array;
    read += bytes.length;
    text += decoder.decode(read > limit ? bytes.subarray(0, bytes.length - (read - limit)) : bytes, { stream: true });
    if (read >= limit) break; // leaving the loop cancels the rest of the body
  }
  return text + decoder.decode();
}

/**
 * An undici `request` body (or any stream of chunks) read whole, as UTF-8 text,
 * failing with an {@link UpstreamTooLargeError} once past `limit` bytes, at which
 * point the rest is not read.
 */
export async function readBounded(body: AsyncIterable<Uint8Array>, limit: number, what: string): Promise<string> {
  const parts: Uint8Array[] = [];
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (read > limit) throw new UpstreamTooLargeError(what, limit);
    parts.push(chunk);
  }
  const text = Buffer.concat(parts).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Joins a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
