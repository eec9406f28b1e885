import type { CallScope } from './call-scope';
import { MAX_STREAM_EVENT_BYTES, UpstreamTooLargeError } from './http';

const LF = 10;
const CR = 13;

const isLineEnd = (byte: number | undefined): boolean => byte === LF || byte === CR;

/**
 * Where the last event of `chunk` ends (just past its blank line), -1 when no event
 * ends in it. `lineEndBefore`: the bytes before `chunk` ended a line (a CRLF split
 * between two chunks may then be read as a blank line: the bound below is one event
 * laxer, never stricter).
 */
function eventEnd(chunk: Uint8Array, lineEndBefore: boolean): number {
  for (let i = chunk.length - 1; i >= 0; i--) {
    if (!isLineEnd(chunk[i])) continue;
    let before = i - 1;
    if (chunk[i] === LF && chunk[before] === CR) before--; // CRLF ends one line
    if (before < 0 ? lineEndBefore : isLineEnd(chunk[before])) return i + 1;
  }
  return -1;
}

/**
 * A server-sent-events body read through an SDK, as the gateway's own streams read
 * theirs (`OpenAIHttp.postSse`): every chunk of bytes touches the call's scope, so
 * the timeout bounds the upstream's silence, not the wait for the next event an SDK
 * passes on (Anthropic's SDK drops `ping` events, and every SSE decoder comments);
 * an event growing past `maxBytes` fails the stream with an {@link UpstreamTooLargeError}
 * instead of being held in memory for as long as the upstream keeps sending.
 */
export function touchingStream(
  body: ReadableStream<Uint8Array>,
  scope: CallScope,
  maxBytes = MAX_STREAM_EVENT_BYTES,
): ReadableStream<Uint8Array> {
  let sinceEventEnd = 0;
  let lineEndBefore = true;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        scope.touch();
        const end = eventEnd(chunk, lineEndBefore);
        sinceEventEnd = end === -1 ? sinceEventEnd + chunk.length : chunk.length - end;
        if (chunk.length > 0) lineEndBefore = isLineEnd(chunk[chunk.length - 1]);
        if (sinceEventEnd > maxBytes) controller.error(new UpstreamTooLargeError('a stream event', maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** How long the end of a stream's response is waited for once its answer is whole (`[DONE]`, `message_stop`). */
export const WHOLE_ANSWER_GRACE_MS = 1_000;

/**
 * `events` as they come until the one that ends the answer (`isLast`: Anthropic's
 * `message_stop`), after which the rest of the response (its end) is waited for
 * {@link WHOLE_ANSWER_GRACE_MS} at most ({@link CallScope.complete}): an upstream that
 * keeps the response open after a whole answer is left, and the stream ends as the
 * answer did, not as a timeout after it.
 */
export async function* untilWhole<T>(
  events: AsyncIterable<T>,
  scope: CallScope,
  isLast: (event: T) => boolean,
): AsyncGenerator<T> {
  try {
    for await (const event of events) {
      if (isLast(event)) scope.complete(WHOLE_ANSWER_GRACE_MS);
      yield event;
    }
  } catch (err) {
    if (!scope.endedWhole) throw err;
  }
}
