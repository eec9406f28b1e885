import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '@app/contracts';
import { SseStream } from '@app/completions';
import { requestIdOf } from '@app/server';

/**
 * Writes a stream of chunks as SSE, chunk by chunk. A failure after the first
 * byte becomes OpenAI's final `data: {"error": ...}` event followed by `[DONE]`
 * (or Anthropic's `event: error` for the Messages API). A failure of the writing
 * itself (the headers, say) is thrown, after the chunks are closed: the relay
 * under them then closes the upstream call and reports the request's end (usage,
 * the in-flight gauge) all the same.
 */
export async function writeSse<T extends object>(
  res: ServerResponse,
  headers: Record<string, string>,
  chunks: AsyncIterable<T>,
  format: 'openai' | 'anthropic',
): Promise<void> {
  const events = chunks[Symbol.asyncIterator]();
  // Read before anything is written, so the generators under `events` have begun and closing them
  // runs their cleanup (one closed before its first `next()` runs none). The first chunk is in hand
  // already (the router waits for it before committing to a provider): nothing waits longer for it.
  const first = events.next();
  // Should it fail, `writeEvents` sends the error event; this keeps it from being unhandled if writing fails first.
  first.catch(() => undefined);
  try {
    const sse = new SseStream(res);
    sse.open(headers);
    await writeEvents(sse, first, events, format, res.req);
  } finally {
    // A no-op once the events ended.
    await events.return?.();
  }
}

async function writeEvents<T extends object>(
  sse: SseStream,
  first: Promise<IteratorResult<T>>,
  events: AsyncIterator<T>,
  format: 'openai' | 'anthropic',
  req: IncomingMessage,
): Promise<void> {
  try {
    for (let next = await first; !next.done; next = await events.next()) {
      let full: Promise<void> | undefined;
      if (format === 'anthropic') {
        const { event, data } = next.value as unknown as { event: string; data: object };
        full = sse.send(data, event);
      } else {
        full = sse.send(next.value);
      }
      // Waits only while the socket is full: awaiting nothing would still cost a turn of the microtask queue per chunk.
      if (full) await full;
    }
    sse.end(format === 'openai' ? '[DONE]' : undefined);
  } catch (error) {
    const failure =
      error instanceof GatewayError ? error : new GatewayError('upstream_error', 'The upstream stream failed.');
    if (format === 'anthropic') await sse.fail(anthropicErrorBody(failure, req), 'error');
    else await sse.fail(failure.toEnvelope());
  }
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  504: 'timeout_error',
};

/**
 * Anthropic's error body, which its SDKs parse; it carries OpenAI's fields too
 * (`message`, `type`, `param`, `code`), so it is also a valid OpenAI envelope.
 */
export function anthropicErrorBody(error: GatewayError, req?: IncomingMessage) {
  const requestId = req ? requestIdOf(req) : '';
  return {
    type: 'error',
    error: {
      type: ANTHROPIC_ERROR_TYPES[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error'),
      message: error.message,
      param: error.param,
      code: error.wireCode,
    },
    // As Anthropic's bodies carry it (the `request-id` header holds it too).
    ...(requestId ? { request_id: requestId } : {}),
  };
}
