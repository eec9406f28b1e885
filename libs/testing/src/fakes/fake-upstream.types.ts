import type { IncomingHttpHeaders } from 'node:http';
import type { SseEvent } from './sse-writer';

/** What a fake received, kept in arrival order in `FakeUpstream.requests`. */
export interface RecordedRequest {
  /** 1-based arrival number, reset by `reset()`. */
  id: number;
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names, as node reports them. */
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, `undefined` when empty or not JSON (see `rawBody`). */
  body: unknown;
  rawBody: string;
  receivedAt: number;
  /** The client went away before the response ended (not set when the fake itself dropped it). */
  aborted: boolean;
  /** The response was written completely. */
  finished: boolean;
  /** The status sent, once headers went out. */
  status?: number;
}

/**
 * A scripted reaction to one request. Fields combine: `delayMs` applies first, then the
 * first of `hang`, `status`, `garbage` that is set wins, otherwise the normal reply is
 * sent, shaped by `text`, `padBodyTo`, `chunkDelayMs`, `commentsFirst`, `dropStreamAfter`, `streamErrorAfter`
 * and `cutStreamAfter`.
 */
export interface FakeBehaviour {
  /** Only requests accepted by this predicate consume the behaviour (default: any). */
  match?: (request: RecordedRequest) => boolean;
  /** How many matching requests consume it before it leaves the queue (default 1). */
  times?: number;
  /** Wait this long before answering (cut short if the client disconnects). */
  delayMs?: number;
  /** Never answer; the socket stays open until the client gives up or `close()`. */
  hang?: boolean;
  /** Answer with this status and `body` (default: the provider's error body) and `headers`. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** 200 with a body that is not JSON (or an SSE `data:` line that is not JSON when streaming). */
  garbage?: boolean | string;
  /**
   * Grow a normal JSON reply (an object) to about this many bytes with a `padding` string,
   * sent 1 MiB a write without a `content-length`: an answer or a model list too large to read.
   */
  padBodyTo?: number;
  /** Replace the deterministic assistant text of a normal reply. */
  text?: string;
  /**
   * Reason before answering a normal chat reply (OpenAI-shaped fakes), as reasoning models
   * served OpenAI's way do: the text in the message's `reasoning_content` (DeepSeek, vLLM's
   * reasoning parsers) or `reasoning` (OpenRouter, Ollama, newer vLLM), streamed word by word
   * in that delta field before the answer's first content delta.
   */
  reasoning?: { text: string; field?: 'reasoning_content' | 'reasoning' };
  /** Replace the token counts of a normal chat reply (OpenAI-shaped fakes; the total follows). */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /**
   * Stream parallel tool calls interleaved, as some servers' tool parsers do (OpenAI-shaped
   * fakes): every call's id and name first, then their argument fragments taking turns
   * (`index` 0, 1, 0, 1...), instead of OpenAI's one call after the other.
   */
  interleaveToolCalls?: boolean;
  /** Pause between SSE events of a streamed reply. */
  chunkDelayMs?: number;
  /**
   * Before the first event of a streamed reply, an SSE comment line (`: OPENROUTER PROCESSING`)
   * every `everyMs` for `forMs`, as OpenRouter keeps a stream alive while its model thinks.
   */
  commentsFirst?: { forMs: number; everyMs: number };
  /** Send this many SSE events (or half the JSON body) then destroy the socket. */
  dropStreamAfter?: number;
  /** Send this many SSE events, then the provider's in-stream error event (`body` when given), then end. */
  streamErrorAfter?: number;
  /** Send this many SSE events, then the first half of the next one, then end the response cleanly. */
  cutStreamAfter?: number;
}

/** A normal reply, produced by a provider fake's router. String bodies go out as text/plain. */
export type FakeReply =
  | { kind: 'body'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'sse'; events: SseEvent[]; headers?: Record<string, string> };

export interface FakeUpstreamOptions {
  /** Port to listen on, default 0 (ephemeral). Always bound to 127.0.0.1. */
  port?: number;
  /** Used for every request the queue has nothing for (default `{}`: the normal reply). */
  defaultBehaviour?: FakeBehaviour;
}
