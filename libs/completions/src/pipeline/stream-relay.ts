import { GatewayError, withFields } from '@app/contracts';
import { CLIENT_CLOSED_REQUEST } from '@app/providers';
import type { TokenUsage } from '@app/usage';
import { NO_USAGE, reportedOrEstimated } from './token-usage';
import type { RequestContext } from './request-context';

/** How to read one kind of stream chunk (chat or legacy completion). */
export interface ChunkReader<T> {
  usage(chunk: T): TokenUsage | undefined;
  /** Characters of generated output in the chunk, to estimate usage of a cut stream. */
  outputChars(chunk: T): number;
  model(chunk: T): string | undefined;
  /** The chunk without usage, or `undefined` to drop it (a usage-only chunk the client did not ask for). */
  withoutUsage(chunk: T): T | undefined;
  /** The chunk as a client that asked for usage sees it. */
  withUsage(chunk: T): T;
  /**
   * The usage an upstream gives at the start of its stream (Anthropic's `message_start`
   * counts the prompt): a stream cut before its usage is settled on that prompt count,
   * its output estimated from what was relayed.
   */
  startUsage?(chunk: T): TokenUsage | undefined;
  /**
   * The usage-only chunk a client that asked for usage gets last, made after `last`
   * (its id, model...) when the upstream sent none; absent where usage always comes.
   */
  usageChunk?(last: T, usage: TokenUsage): T;
}

/**
 * OpenAI's usage-only chunk (`choices: []`) after `last`, of a chat or legacy
 * completion stream, with `usage` in OpenAI's terms.
 */
export function usageChunkAfter<T extends { id: string; object: string; created: number; model: string }>(
  last: T,
  usage: TokenUsage,
): T {
  const { promptTokens, completionTokens, cachedTokens } = usage;
  return {
    id: last.id,
    object: last.object,
    created: last.created,
    model: last.model,
    choices: [],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cachedTokens },
    },
  } as unknown as T;
}

/**
 * A chunk as a client that did not ask for usage sees it: usage removed, and a
 * usage-only chunk (no choices) dropped. OpenAI's `usage: null` (which the
 * gateway's own request for usage brings) is left: stripping it would serialise
 * every event again, and clients read it as no usage.
 */
export function withoutUsage<T extends { usage?: unknown; choices: unknown[] }>(chunk: T): T | undefined {
  if (!chunk.usage) return chunk;
  if (chunk.choices.length === 0) return undefined;
  const { usage: _usage, ...rest } = chunk;
  return rest as T;
}

/**
 * A chunk as a client that asked for usage sees it: as OpenAI sends them, every
 * chunk but the usage-only last one carries `usage: null`, whichever provider
 * (or translation) wrote it. A chunk without the field is copied, not changed:
 * a parsed event's text is forwarded as it is (see `parseJson`).
 */
export function withNullUsage<T extends { usage?: unknown }>(chunk: T): T {
  return chunk.usage === undefined ? { ...chunk, usage: null } : chunk;
}

export interface StreamEnd {
  status: number;
  errorCode?: string;
  usage: TokenUsage;
  modelServed?: string;
}

/**
 * Passes chunks through as they arrive. Usage is kept for the report and
 * forwarded only when the client asked for it; a stream that ends early (client
 * gone, upstream dropped) is reported with the output estimated from what was
 * sent. An upstream failure is rethrown for the writer's final error event, and
 * handed to `onEnd` with the report (a client's disconnect is none, nor is a
 * failure of our own writer). Closed (`return()`) before the upstream ended — the
 * client gone, or the writer failing — it closes the upstream call. Whoever
 * obtains it must read it to its end or close it once started: a generator
 * closed before its first `next()` runs none of this.
 */
export async function* relayStream<T>(
  first: T | undefined,
  rest: AsyncIterator<T>,
  reader: ChunkReader<T>,
  options: {
    includeUsage: boolean;
    promptEstimate: number;
    ctx: RequestContext;
    onEnd: (end: StreamEnd, failure: GatewayError | undefined) => void;
  },
): AsyncGenerator<T, void, undefined> {
  const { ctx } = options;
  let usage: TokenUsage | undefined;
  /** The usage given at the start of the stream, if any (see `ChunkReader.startUsage`). */
  let started: TokenUsage | undefined;
  let modelServed: string | undefined;
  let chars = 0;
  let last: T | undefined;
  /**
   * What the upstream reported; when it reported none by the end, the prompt it counted
   * at the start, if it did, else the estimate; and the output estimated from what was relayed.
   */
  const settledUsage = () =>
    usage === undefined && started !== undefined && started.promptTokens > 0
      ? withFields(started, { completionTokens: Math.max(started.completionTokens, Math.ceil(chars / 4)) })
      : reportedOrEstimated(
          usage ?? NO_USAGE,
          () => options.promptEstimate,
          () => chars,
        );
  /** Set once the upstream stream ended, by itself or failing. */
  let end: Omit<StreamEnd, 'usage'> | undefined;
  let failure: GatewayError | undefined;
  try {
    let chunk = first;
    while (chunk !== undefined) {
      modelServed ??= reader.model(chunk);
      usage = reader.usage(chunk) ?? usage;
      if (started === undefined && reader.startUsage) started = reader.startUsage(chunk);
      last = chunk;
      chars += reader.outputChars(chunk);
      const out = options.includeUsage ? reader.withUsage(chunk) : reader.withoutUsage(chunk);
      if (out !== undefined) yield out;
      if (ctx.clientGone) break;
      // Awaited as it is: a `then` to unwrap it would cost another turn of the microtask queue per chunk.
      const next = await rest.next();
      chunk = next.done ? undefined : next.value;
    }
    if (!ctx.clientGone) {
      end = { status: 200 };
      // A client that asked for usage gets it last, the estimate recorded when the upstream sent none.
      if (options.includeUsage && usage === undefined && last !== undefined && reader.usageChunk) {
        usage = settledUsage();
        yield reader.usageChunk(last, usage);
      }
    }
  } catch (error) {
    if (!ctx.clientGone) {
      failure =
        ctx.interruption ??
        (error instanceof GatewayError ? error : new GatewayError('upstream_error', 'The upstream stream failed'));
      end = { status: failure.status, errorCode: failure.code };
      throw failure;
    }
  } finally {
    if (end === undefined) {
      rest.return?.().catch(() => undefined);
      // Closed by its reader while the client is still there: the response failed on our side.
      end = ctx.clientGone
        ? { status: CLIENT_CLOSED_REQUEST, errorCode: 'client_closed' }
        : { status: 500, errorCode: 'internal_error' };
    }
    options.onEnd(withFields(end, { usage: settledUsage(), modelServed }), failure);
  }
}
