import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const REQUEST_ID_HEADER = 'x-request-id';
/**
 * Anthropic's API names the id `request-id`, and its SDKs read it from there
 * (`_request_id` on answers, `requestID` on errors): the routes of its API
 * (`/v1/messages...`) carry it under both names.
 */
export const ANTHROPIC_REQUEST_ID_HEADER = 'request-id';

const isAnthropicPath = (url: string | undefined): boolean => url?.startsWith('/v1/messages') === true;

/**
 * The request's id: the caller's `x-request-id` when it is a sane token, a new
 * UUID otherwise. Echoed on the response so both sides can quote it: set on the
 * response at once when `echo`, else left to the response's writer, which puts it
 * among the headers it hands to `writeHead` ({@link withRequestId}). A header set
 * before `writeHead` sends Node down its slower path, which sets every header of
 * the head one by one: about twice the cost of the whole head (~3 µs of ~6 warm).
 * The hot routes write every response through `sendJson` or `SseStream`, which
 * add the id; Express's routes get it at once.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, echo = true): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  if (echo) {
    res.setHeader(REQUEST_ID_HEADER, id);
    if (isAnthropicPath(req.url)) res.setHeader(ANTHROPIC_REQUEST_ID_HEADER, id);
  }
  return id;
}

/**
 * `headers` (made for this response: it is changed) with the request's id, for
 * `writeHead`; unchanged when the request has none (a response made outside an app).
 */
export function withRequestId(res: ServerResponse, headers: Record<string, string>): Record<string, string> {
  const req = res.req as (IncomingMessage & { id?: unknown }) | undefined;
  const id = req?.id;
  if (typeof id !== 'string') return headers;
  headers[REQUEST_ID_HEADER] = id;
  if (isAnthropicPath(req?.url)) headers[ANTHROPIC_REQUEST_ID_HEADER] = id;
  return headers;
}

/** The id pino-http attached to the request (`req.id`). */
export function requestIdOf(req: IncomingMessage): string {
  const id = (req as IncomingMessage & { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
}
