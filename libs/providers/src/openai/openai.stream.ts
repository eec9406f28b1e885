import { randomUUID } from 'node:crypto';
import { isObject } from '@app/contracts';
import { UpstreamShapeError } from '../shared/http';

/**
 * OpenAI-shaped stream events as OpenAI itself sends them, whatever server sent
 * them: the look-alikes' departures that break OpenAI clients are mended here,
 * one event at a time, and every other event is passed on as the same object (so
 * its text is forwarded without being serialised again).
 *
 * - Azure opens a stream with a content-filter annotation: `choices: []`, no
 *   usage, empty `id`/`model`/`object`. Clients that read `choices[0]` of every
 *   chunk (most of them) fail on it; OpenAI never sends such a chunk. Dropped.
 * - Gemini puts `usage` on the chunk that carries the last choice; OpenAI sends it
 *   alone, after every choice, with `choices: []`. The usage moves to a chunk of its
 *   own at the end of the stream.
 * - Older Ollama versions stream tool calls without `index`, which the openai SDK's
 *   stream helpers need to assemble calls (without it they lose every call); some
 *   servers number parallel calls all `0`. A call with a new id gets the next index.
 * - Some servers leave out a tool call's `id`, which clients answer the call by
 *   (the openai SDK's stream helpers throw without it): a call begun without one
 *   gets one made here (`call_…`).
 * - Ollama versions and Gemini finish a turn that called tools with `stop`, where
 *   OpenAI says `tool_calls` (clients run the tools on that signal): mended for the
 *   look-alikes only (`mendToolFinish`), never for OpenAI's own answers.
 * - Azure's asynchronous content filter annotates text already streamed with chunks
 *   whose choices carry `content_filter_results` but no `delta` (a legacy completion's
 *   no `text`), and whose `id`, `model` and `object` are empty and `created` 0; the
 *   last may finish the choice (`content_filter`). The openai SDK's stream helpers
 *   throw on a choice without `delta`, and take the chunk's empty `id` and `model` for
 *   the answer's. Such a chunk is kept, with its annotations, as OpenAI would send it:
 *   an empty `delta` (`text`), and the stream's `id`, `model`, `object` and `created`.
 */

interface ToolCallDelta {
  index?: unknown;
  id?: unknown;
  [key: string]: unknown;
}

interface ChoiceLike {
  index?: unknown;
  finish_reason?: unknown;
  delta?: { tool_calls?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

interface ChunkLike {
  choices: ChoiceLike[];
  usage?: unknown;
  id?: unknown;
  [key: string]: unknown;
}

/** What every chunk of a stream repeats, taken from its first: Azure's annotations leave it empty. */
interface StreamHead {
  id: unknown;
  object: unknown;
  created: unknown;
  model: unknown;
}

/** Whose choices a stream carries: chat chunks' `delta`, or legacy completions' `text`. */
export type ChunkShape = 'chat' | 'completion';

/** The tool calls of one choice: upstream index -> ours, and our calls' ids. */
interface ChoiceCalls {
  byUpstream: Map<number, number>;
  ids: Array<string | undefined>;
  last: number;
  /** Our indexes of the calls begun so far (each has had its id, the server's or one made here). */
  begun: Set<number>;
}

function hasId(call: ToolCallDelta): boolean {
  return typeof call.id === 'string' && call.id !== '';
}

/**
 * The event as a chunk: an object whose `choices` is a list of objects. One
 * without `choices` carrying usage is a usage chunk (`choices: []`); one without
 * either carries nothing a client reads (`undefined`). Anything else is no chunk:
 * an {@link UpstreamShapeError}.
 */
function asChunk(event: unknown): ChunkLike | undefined {
  if (!isObject(event)) {
    throw new UpstreamShapeError('a stream event is not a JSON object');
  }
  const choices = (event as { choices?: unknown }).choices;
  if (choices === undefined) {
    const usage = (event as { usage?: unknown }).usage;
    return usage === undefined || usage === null ? undefined : { ...event, choices: [] };
  }
  if (!Array.isArray(choices) || !choices.every(isObject)) {
    throw new UpstreamShapeError("a stream event's choices are not a list of objects");
  }
  return event as ChunkLike;
}

export class OpenAIChunkNormalizer {
  /** Made at the first tool call: most streams carry none. */
  private calls: Map<unknown, ChoiceCalls> | undefined;
  private usageChunk: ChunkLike | undefined;
  private head: StreamHead | undefined;

  constructor(
    private readonly mendToolFinish: boolean,
    private readonly shape: ChunkShape = 'chat',
  ) {}

  /**
   * The event to pass on (the same object when nothing needed mending), or
   * `undefined` to drop it; an event that is not a chunk is an {@link UpstreamShapeError}.
   */
  push(data: unknown): unknown {
    const event = asChunk(data);
    if (event === undefined) return undefined;
    const hasUsage = event.usage !== undefined && event.usage !== null;
    if (event.choices.length === 0) return hasUsage ? event : undefined;
    let choices = event.choices;
    for (let i = 0; i < choices.length; i++) {
      const mended = this.mendChoice(choices[i]);
      if (mended === choices[i]) continue;
      if (choices === event.choices) choices = [...choices];
      choices[i] = mended;
    }
    const head = this.headOf(event);
    if (!hasUsage) return choices === event.choices && head === undefined ? event : { ...event, ...head, choices };
    const { usage, ...rest } = event;
    this.usageChunk = { ...rest, ...head, choices: [], usage };
    return { ...rest, ...head, choices };
  }

  /**
   * The stream's `id`, `model`, `object` and `created` for a chunk that left them empty
   * (Azure's annotations); `undefined` for one that has its own (the first such is
   * remembered).
   */
  private headOf(event: ChunkLike): StreamHead | undefined {
    if (typeof event.id === 'string' && event.id !== '') {
      this.head ??= { id: event.id, object: event.object, created: event.created, model: event.model };
      return undefined;
    }
    const object = this.shape === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return this.head ?? { id: event.id, object, created: event.created, model: event.model };
  }

  /** What is left to send once the upstream stream ended: usage taken off a choice's chunk. */
  end(): unknown {
    const chunk = this.usageChunk;
    this.usageChunk = undefined;
    return chunk;
  }

  private mendChoice(choice: ChoiceLike): ChoiceLike {
    const toolCalls = choice.delta?.tool_calls;
    let mended = choice;
    // An annotation of Azure's content filter carries no content.
    if (this.shape === 'chat' ? choice.delta === undefined : choice.text === undefined) {
      mended = this.shape === 'chat' ? { ...choice, delta: {} } : { ...choice, text: '' };
    }
    if (Array.isArray(toolCalls) && toolCalls.length > 0) {
      const state = this.stateOf(choice.index);
      let calls = toolCalls as ToolCallDelta[];
      for (let j = 0; j < calls.length; j++) {
        const index = this.indexOf(state, calls[j], j);
        // A call's first delta carries its id, which clients need to answer it: some servers leave it out.
        const missingId = !state.begun.has(index) && !hasId(calls[j]);
        state.begun.add(index);
        if (index === calls[j].index && !missingId) continue;
        if (calls === toolCalls) calls = [...calls];
        calls[j] = missingId ? { ...calls[j], index, id: newToolCallId(), type: 'function' } : { ...calls[j], index };
      }
      if (calls !== toolCalls) mended = { ...mended, delta: { ...choice.delta, tool_calls: calls } };
    }
    if (this.mendToolFinish && choice.finish_reason === 'stop' && this.calls?.get(choice.index)?.begun.size) {
      mended = { ...mended, finish_reason: 'tool_calls' };
    }
    return mended;
  }

  private stateOf(choiceIndex: unknown): ChoiceCalls {
    this.calls ??= new Map();
    let state = this.calls.get(choiceIndex);
    if (!state) {
      state = { byUpstream: new Map(), ids: [], last: 0, begun: new Set() };
      this.calls.set(choiceIndex, state);
    }
    return state;
  }

  /** Our index for one tool call delta: a new id opens the next call; a delta without id continues one. */
  private indexOf(state: ChoiceCalls, call: ToolCallDelta, position: number): number {
    const upstream = typeof call.index === 'number' ? call.index : undefined;
    const id = hasId(call) ? (call.id as string) : undefined;
    const known = upstream === undefined ? undefined : state.byUpstream.get(upstream);
    if (id === undefined) {
      if (known !== undefined) return (state.last = known);
      // Without index or id, a delta continues the last call, unless it names a function or follows
      // another call in its chunk: then it begins one (Gemini sends whole calls so, several a chunk).
      if (upstream === undefined && state.ids.length > 0 && position === 0 && !namesFunction(call)) return state.last;
      // A call begun without an id (at an index not seen yet, or the first of all): ours is the next.
      const index = state.ids.length;
      state.ids[index] = undefined;
      if (upstream !== undefined) state.byUpstream.set(upstream, index);
      return (state.last = index);
    }
    if (known !== undefined && state.ids[known] === id) return (state.last = known);
    const index = state.ids.length;
    state.ids.push(id);
    if (upstream !== undefined) state.byUpstream.set(upstream, index);
    return (state.last = index);
  }
}

/** Whether a tool call delta names its function: the first delta of a call does. */
function namesFunction(call: ToolCallDelta): boolean {
  const name = (call as { function?: { name?: unknown } }).function?.name;
  return typeof name === 'string' && name.length > 0;
}

/** An id for a tool call an upstream sent without one, in OpenAI's form (`call_` and 24 hex digits). */
export function newToolCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
