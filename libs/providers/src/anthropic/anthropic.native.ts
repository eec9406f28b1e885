import { type AnthropicMessageRequest, type AnthropicSseEvent, isObject, parseJsonEvent } from '@app/contracts';
import { badResponseError, fromUpstreamHttpError, ProviderError, type ErrorContext } from '../errors';
import { describeUpstreamBody, statusOfStreamError } from '../shared/error-details';
import { SseDecoder, type SseMessage } from '../shared/sse';
import { betasOf } from './anthropic.fields';

/**
 * Anthropic's Messages API spoken natively, for clients of the gateway's own
 * `/v1/messages`: their request goes as they wrote it, the answer comes back as
 * Anthropic gave it. Nothing is translated, so nothing the chat format cannot
 * carry is lost (server tools and their result blocks, citations, containers,
 * every stop reason).
 */

/**
 * Fields of a Messages request that shape the generation, not the prompt: Anthropic's
 * `count_tokens` refuses them as extra inputs (and takes the rest: new prompt fields
 * pass on unnamed).
 */
const GENERATION_ONLY_FIELDS = [
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'stream',
  'metadata',
  'service_tier',
  'container',
  'inference_geo',
  'diagnostics',
];

/** A Messages request as Anthropic's `count_tokens` takes it: the client's prompt fields, as they are. */
export function nativeCountParams<T extends object>(request: T): T {
  if (!GENERATION_ONLY_FIELDS.some((field) => field in request)) return request;
  const params = { ...request } as Record<string, unknown>;
  for (const field of GENERATION_ONLY_FIELDS) delete params[field];
  return params as T;
}

/** The client's body as Anthropic takes it: `betas` (the `anthropic-beta` header, see `withClientBetas`) out of it. */
export function nativeParams<T extends object = AnthropicMessageRequest>(request: T): { params: T; betas?: string } {
  if (!('betas' in request)) return { params: request };
  const { betas, ...rest } = request;
  const params = rest as T;
  const header = betasOf(betas);
  return header ? { params, betas: header } : { params };
}

/**
 * The events of a streamed message read off its body, each as soon as its blank
 * line arrives, `ping` included, their JSON kept with its text (written to the
 * client unchanged, see `parseJsonEvent`). An `error` event is thrown as the
 * upstream's error, with the status its type stands for; a stream that ends
 * before `message_stop` is a retryable upstream failure. The body is read to its
 * end after `message_stop`: leaving early would abort the response and cost the
 * pooled connection.
 */
export async function* anthropicSseEvents(
  body: AsyncIterable<Uint8Array>,
  ctx: ErrorContext,
): AsyncGenerator<AnthropicSseEvent> {
  const decoder = new SseDecoder();
  const text = new TextDecoder();
  const order = new EventOrder(ctx.provider);
  let stopped = false;
  for await (const bytes of body) {
    for (const message of decoder.push(text.decode(bytes, { stream: true }))) {
      if (stopped) continue;
      const event = sseEvent(message, ctx.provider);
      if (event.event === 'error') throw streamError(event.data, ctx);
      order.check(event);
      stopped = event.event === 'message_stop';
      yield event;
    }
  }
  if (stopped) return;
  throw new ProviderError(
    'upstream_error',
    `provider '${ctx.provider}' ended the stream before the message was complete`,
    {
      provider: ctx.provider,
      reason: 'server',
      retryable: true,
    },
  );
}

/**
 * The shape and order Anthropic's SDKs read a stream in, checked event by event:
 * `message_start` first and once, with its message and usage; blocks started
 * before their deltas and stop; deltas and `message_delta` with the objects the
 * SDKs read. An event breaking them is the upstream's invalid answer (a 502, which
 * a route falls back from before the first byte), not a 200 the client's SDK
 * throws on. Events of types Anthropic adds later pass.
 */
class EventOrder {
  private started = false;
  private readonly open = new Set<unknown>();

  constructor(private readonly provider: string) {}

  check({ event, data }: AnthropicSseEvent): void {
    const fields = data as Record<string, unknown>;
    switch (event) {
      case 'message_start': {
        const message = fields['message'];
        if (this.started) this.fail('a second message_start');
        if (!isObject(message) || !isObject(message['usage'])) this.fail('message_start without its message and usage');
        this.started = true;
        return;
      }
      case 'content_block_start':
        this.require(event);
        if (!isObject(fields['content_block'])) this.fail('content_block_start without its block');
        this.open.add(fields['index']);
        return;
      case 'content_block_delta':
        this.require(event);
        if (!this.open.has(fields['index'])) this.fail('a content_block_delta for a block not started');
        if (!isObject(fields['delta']) || typeof fields['delta']['type'] !== 'string') {
          this.fail('a content_block_delta without its delta');
        }
        return;
      case 'content_block_stop':
        this.require(event);
        if (!this.open.delete(fields['index'])) this.fail('a content_block_stop for a block not started');
        return;
      case 'message_delta':
        this.require(event);
        if (!isObject(fields['delta']) || !isObject(fields['usage']))
          this.fail('message_delta without its delta and usage');
        return;
      case 'message_stop':
        this.require(event);
        return;
      default:
        return;
    }
  }

  private require(event: string): void {
    if (!this.started) this.fail(`${event} before message_start`);
  }

  private fail(what: string): never {
    throw badResponseError(this.provider, `the stream sent ${what}`);
  }
}

/** One event: its name (the `event:` line, else the payload's `type`) and its JSON object. */
function sseEvent(message: SseMessage, provider: string): AnthropicSseEvent {
  const data = parseJsonEvent(message.data) as Partial<AnthropicSseEvent['data']> | null;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || typeof data.type !== 'string') {
    throw badResponseError(provider, 'a stream event is not a JSON object with a type');
  }
  return { event: message.event ?? data.type, data: data as AnthropicSseEvent['data'] };
}

/** An `error` event inside a 200 stream (`overloaded_error`...): its type stands for the status it has none of. */
function streamError(data: AnthropicSseEvent['data'], ctx: ErrorContext): ProviderError {
  const status = statusOfStreamError(describeUpstreamBody(undefined, data));
  return fromUpstreamHttpError({ status, body: data, cause: new Error('error event in the stream') }, ctx);
}
