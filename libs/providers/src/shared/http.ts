import { Agent } from 'undici';

/** Connections kept per upstream origin; one pool per provider. */
const POOL_CONNECTIONS = 128;
const KEEP_ALIVE_MS = 30_000;
const BACKSTOP_TIMEOUT_MS = 600_000;
/** Error bodies are kept only to read a message out of them. */
export const MAX_ERROR_BODY_CHARS = 8_192;
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

/** The keep-alive connection pool of one provider. */
export function createDispatcher(): Agent {
  return new Agent({
    connections: POOL_CONNECTIONS,
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
 * the SDK's `fetchOptions`), recording the body of every error response.
 */
export async function recordingFetch(input: FetchInput, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.ok) return response;
  const text = await response.text();
  const copy = new Response(text, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  errorBodies.set(copy.headers, text.slice(0, MAX_ERROR_BODY_CHARS));
  return copy;
}

/** Joins a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
