import type {
  AnthropicDeltaUsage,
  AnthropicSseEvent,
  AnthropicStopReason,
  ChatChunk,
  ChatChunkToolCallDelta,
  ChatFinishReason,
  ChatReasoning,
  ChatThinkingBlock,
  Usage,
} from '@app/contracts';
import {
  anthropicMessageId,
  anthropicStopReason,
  anthropicUsage,
  hasThinkingBlocks,
  matchedStopSequence,
  reasoningText,
  toolInput,
} from './anthropic-inbound.response';
import { randomId } from './prompt-messages';

/**
 * Canonical chat chunks -> Anthropic's streamed event sequence (inbound
 * `POST /v1/messages` with `stream: true`):
 *
 *   message_start, then per content block content_block_start / *_delta /
 *   content_block_stop (a `ping` after the first start), message_delta
 *   (stop_reason, usage), message_stop.
 *
 * Blocks open one at a time, in order, as Anthropic's are: thinking (from the
 * deltas' `thinking_blocks`, see {@link AnthropicEventMapper.thinking}, or else their
 * reasoning text, `reasoning_content` / `reasoning`, in an unsigned block), text, then one block
 * per tool call (`input_json_delta` fragments, held back only when the arguments
 * are not a JSON object: see {@link ToolBlock}); text after a tool call opens a
 * new text block. A tool call that begins while another one's arguments are
 * still coming waits, its fragments held, until that one's object is whole (or
 * other content or the end comes): upstreams that stream parallel calls
 * interleaved (`index` 0, 1, 0, 1...) still give blocks that never take a delta
 * after their `content_block_stop`. Only the first choice is translated
 * (Anthropic has no `n`).
 * Framing (`event:` / `data:` lines) is the SSE writer's job.
 */

/**
 * How a tool block's arguments travel: `pending` while they are only blank,
 * `stream` (fragment by fragment, as they arrive) once they open a JSON object,
 * `buffer` when they start with anything else — an array, a string, a code
 * fence — to be sent whole, read as the JSON translation reads them, when the
 * block closes: Anthropic's `input` is always an object, streamed or not.
 */
interface ToolBlock {
  /** The call's `index` in the chunks. */
  index: number;
  id: string;
  name: string;
  /** Its content block's index, given when it opens (it may wait for the call before it: see {@link AnthropicEventMapper}). */
  block: number | undefined;
  mode: 'pending' | 'stream' | 'buffer';
  held: string;
  /** Where the streamed arguments' JSON stands: whole once the object that opened them has closed. */
  json: JsonEnd;
}

/** Tells, fragment by fragment, when the JSON value that began has ended (strings and escapes skipped). */
class JsonEnd {
  private depth = 0;
  private inString = false;
  private escaped = false;
  whole = false;

  /**
   * Reads the next fragment; returns how much of it belongs to the value (all of it
   * until the value is whole, then up to its end: what an upstream sends after the
   * object closed, an extra `}` or a second object as some tool parsers do, is not
   * part of it, and a client parsing the streamed JSON fails on it).
   */
  read(text: string): number {
    if (this.whole) return 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === BACKSLASH) this.escaped = true;
        else if (ch === QUOTE) this.inString = false;
      } else if (ch === QUOTE) this.inString = true;
      else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) this.depth++;
      else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
        this.whole = --this.depth <= 0;
        if (this.whole) return i + 1;
      }
    }
    return text.length;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

type OpenBlock =
  | { kind: 'text'; block: number }
  | { kind: 'tool'; block: number; tool: number }
  /** `signed` once its signature is sent: more thinking then opens a new block. */
  | { kind: 'thinking'; block: number; signed: boolean }
  | { kind: 'redacted'; block: number };

/** A block about to open: its index is given as it opens, after the blocks that must come before it. */
type NewBlock = OpenBlock extends infer B ? (B extends OpenBlock ? Omit<B, 'block'> : never) : never;

function sse(type: string, fields: Record<string, unknown> = {}): AnthropicSseEvent {
  return { event: type, data: { type, ...fields } };
}

/** The translation state of one stream; `push` each chunk, then `finish`. */
export class AnthropicEventMapper {
  private started = false;
  private pinged = false;
  private nextBlock = 0;
  private open: OpenBlock | undefined;
  private readonly tools = new Map<number, ToolBlock>();
  /** Tool calls begun while another one's arguments were still coming, in order: see {@link toolCall}. */
  private waiting: ToolBlock[] = [];
  private finishReason: ChatFinishReason | null = null;
  private stopSequence: string | null = null;
  private usage: Usage | undefined;

  /**
   * `promptEstimate`: the input tokens `message_start` reports while the upstream has
   * reported none (OpenAI-shaped servers report usage at the end, if at all), as
   * Anthropic's own start reports the prompt's count; 0 when not given.
   */
  constructor(
    private readonly requestedModel: string,
    private readonly promptEstimate = 0,
  ) {}

  push(chunk: ChatChunk): AnthropicSseEvent[] {
    const events = this.start(chunk);
    // A usage that counts nothing is none (the gateway estimates it, as it records it).
    if (chunk.usage && (chunk.usage.prompt_tokens > 0 || chunk.usage.completion_tokens > 0)) this.usage = chunk.usage;
    // A server that numbers no choices (`index` left out) sends one: it is the first.
    const choice = chunk.choices.find(isFirstChoice);
    if (!choice) return events;
    events.push(...this.deltaThinking(choice.delta));
    const text = choice.delta.content || choice.delta.refusal;
    if (text) events.push(...this.text(text));
    for (const call of choice.delta.tool_calls ?? []) events.push(...this.toolCall(call));
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      this.stopSequence = matchedStopSequence(choice);
    }
    return events;
  }

  /**
   * The closing events, once the chunks are exhausted (the usage chunk comes after the
   * finish chunk). `outputEstimate`: the output tokens to report when the upstream
   * reported no usage (the gateway's estimate, which it records), rather than 0.
   */
  finish(outputEstimate = 0): AnthropicSseEvent[] {
    const events = this.start(undefined);
    events.push(...this.openWaiting(), ...this.closeOpen());
    const stopReason = this.stopReason();
    const usage = anthropicUsage(this.usage);
    const deltaUsage: AnthropicDeltaUsage = {
      input_tokens: this.usage ? usage.input_tokens : null,
      output_tokens: this.usage ? usage.output_tokens : outputEstimate,
      cache_creation_input_tokens: this.usage ? usage.cache_creation_input_tokens : null,
      cache_read_input_tokens: this.usage ? usage.cache_read_input_tokens : null,
      output_tokens_details: usage.output_tokens_details,
      server_tool_use: null,
    };
    const delta = {
      stop_reason: stopReason,
      stop_sequence: stopReason === 'stop_sequence' ? this.stopSequence : null,
      stop_details: stopReason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null,
      container: null,
    };
    events.push(sse('message_delta', { delta, usage: deltaUsage }), sse('message_stop'));
    return events;
  }

  private stopReason(): AnthropicStopReason {
    const sequence = this.finishReason === 'stop' ? this.stopSequence : null;
    return anthropicStopReason(this.finishReason, this.tools.size > 0, sequence);
  }

  private start(chunk: ChatChunk | undefined): AnthropicSseEvent[] {
    if (this.started) return [];
    this.started = true;
    const message = {
      id: chunk ? anthropicMessageId(chunk.id) : randomId('msg_'),
      type: 'message',
      role: 'assistant',
      model: this.requestedModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      // OpenAI-style upstreams report usage only at the end (message_delta carries it then): the estimate till then.
      usage: chunk?.usage
        ? anthropicUsage(chunk.usage)
        : { ...anthropicUsage(undefined), input_tokens: this.promptEstimate },
    };
    return [sse('message_start', { message })];
  }

  /** Opens a block, the new {@link open}, after closing the open one (and the waiting calls, before other content). */
  private openBlock(block: NewBlock, contentBlock: Record<string, unknown>): AnthropicSseEvent[] {
    // Other content after tool calls still waiting: they come first.
    const events = block.kind === 'tool' ? [] : this.openWaiting();
    events.push(...this.closeOpen());
    const open: OpenBlock = { ...block, block: this.nextBlock++ };
    this.open = open;
    events.push(sse('content_block_start', { index: open.block, content_block: contentBlock }));
    if (!this.pinged) {
      this.pinged = true;
      events.push(sse('ping'));
    }
    return events;
  }

  private closeOpen(): AnthropicSseEvent[] {
    if (!this.open) return [];
    const open = this.open;
    this.open = undefined;
    const events: AnthropicSseEvent[] = [];
    const tool = open.kind === 'tool' ? this.tools.get(open.tool) : undefined;
    if (tool?.mode === 'buffer') {
      events.push(inputDelta(open.block, JSON.stringify(toolInput(tool.held))));
      // Fragments for a block already closed have nowhere to go: Anthropic blocks do not reopen.
      tool.held = '';
    }
    events.push(sse('content_block_stop', { index: open.block }));
    return events;
  }

  private text(text: string): AnthropicSseEvent[] {
    const events =
      this.open?.kind === 'text' ? [] : this.openBlock({ kind: 'text' }, { type: 'text', text: '', citations: null });
    events.push(sse('content_block_delta', { index: this.open?.block, delta: { type: 'text_delta', text } }));
    return events;
  }

  /**
   * A delta's thinking: its `thinking_blocks`, or else its reasoning text as
   * `thinking_delta` events in a thinking block that never gets a signature
   * (the block's start gives it an empty one, which the SDK keeps).
   */
  private deltaThinking(delta: object): AnthropicSseEvent[] {
    if (hasThinkingBlocks(delta)) return this.thinking((delta as ChatReasoning).thinking_blocks ?? []);
    const text = reasoningText(delta);
    return text ? this.thinking([{ type: 'thinking', thinking: text }]) : [];
  }

  /**
   * `thinking_blocks` entries of a delta: thinking text as `thinking_delta`, a
   * signature as `signature_delta` (closing that block's thinking), a redacted
   * block whole in its `content_block_start`, each in its own content block.
   */
  private thinking(entries: ChatThinkingBlock[]): AnthropicSseEvent[] {
    const events: AnthropicSseEvent[] = [];
    for (const entry of entries as Array<Partial<Record<string, unknown>> | null>) {
      if (entry?.type === 'redacted_thinking' && typeof entry.data === 'string') {
        const start = { type: 'redacted_thinking', data: entry.data };
        events.push(...this.openBlock({ kind: 'redacted' }, start));
        continue;
      }
      if (entry?.type !== 'thinking') continue;
      const text = typeof entry.thinking === 'string' ? entry.thinking : '';
      const signature = typeof entry.signature === 'string' ? entry.signature : '';
      if (!text && !signature) continue;
      const block = this.openThinking(events);
      if (text)
        events.push(
          sse('content_block_delta', { index: block.block, delta: { type: 'thinking_delta', thinking: text } }),
        );
      if (signature) {
        events.push(sse('content_block_delta', { index: block.block, delta: { type: 'signature_delta', signature } }));
        block.signed = true;
      }
    }
    return events;
  }

  /** The open thinking block that takes more, or a new one. */
  private openThinking(events: AnthropicSseEvent[]): Extract<OpenBlock, { kind: 'thinking' }> {
    if (this.open?.kind === 'thinking' && !this.open.signed) return this.open;
    events.push(
      ...this.openBlock({ kind: 'thinking', signed: false }, { type: 'thinking', thinking: '', signature: '' }),
    );
    return this.open as Extract<OpenBlock, { kind: 'thinking' }>;
  }

  private toolCall(call: ChatChunkToolCallDelta): AnthropicSseEvent[] {
    let tool = this.tools.get(call.index);
    const fragment = argumentsText(call.function?.arguments);
    if (!tool) {
      tool = {
        index: call.index,
        id: call.id || randomId('toolu_'),
        name: call.function?.name ?? '',
        block: undefined,
        mode: 'pending',
        held: fragment ?? '',
        json: new JsonEnd(),
      };
      this.tools.set(call.index, tool);
      // Another call's arguments still coming: this one waits, so that call's block gets all of them.
      // So does a call whose name is still to come (some servers send it after the id): a block opens named.
      if (this.streamingTool() !== undefined || tool.name === '') {
        this.waiting.push(tool);
        return [];
      }
      return this.openTool(tool);
    }
    const name = call.function?.name;
    if (name && tool.name === '' && tool.block === undefined) {
      tool.name = name;
      if (fragment) tool.held += fragment;
      return this.streamingTool() === undefined ? this.openWaiting(true) : [];
    }
    if (!fragment) return [];
    if (tool.block === undefined) {
      tool.held += fragment;
      return [];
    }
    const events: AnthropicSseEvent[] = [];
    // A fragment for a call already closed (its object was whole, or other content came) still goes
    // to that call's block: clients accumulate by index.
    const sent = this.toolArguments(tool, fragment);
    if (sent) events.push(inputDelta(tool.block, sent));
    if (tool.json.whole && this.streamingTool() === undefined) events.push(...this.openWaiting(true));
    return events;
  }

  /** The open tool block whose arguments may still grow, if any. */
  private streamingTool(): ToolBlock | undefined {
    if (this.open?.kind !== 'tool') return undefined;
    const tool = this.tools.get(this.open.tool);
    return tool && !tool.json.whole ? tool : undefined;
  }

  /** Opens `tool`'s block (closing the open one) and sends what it holds as far as it can be. */
  private openTool(tool: ToolBlock): AnthropicSseEvent[] {
    const start = { type: 'tool_use', id: tool.id, name: tool.name, input: {}, caller: { type: 'direct' } };
    const events = this.openBlock({ kind: 'tool', tool: tool.index }, start);
    tool.block = (this.open as OpenBlock).block;
    const held = tool.held;
    tool.held = '';
    const sent = held ? this.toolArguments(tool, held) : undefined;
    if (sent) events.push(inputDelta(tool.block, sent));
    return events;
  }

  /**
   * Opens the waiting tool calls in turn: all of them (other content, or the end,
   * came), or while `untilStreaming`, up to the first whose arguments may still grow.
   */
  private openWaiting(untilStreaming = false): AnthropicSseEvent[] {
    const events: AnthropicSseEvent[] = [];
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      events.push(...this.openTool(next));
      if (untilStreaming && this.streamingTool() !== undefined) break;
    }
    return events;
  }

  /** What to send of a tool call's arguments now (see {@link ToolBlock}); `undefined` while held back. */
  private toolArguments(tool: ToolBlock, fragment: string): string | undefined {
    if (tool.mode === 'stream') {
      const kept = tool.json.read(fragment);
      return kept === fragment.length ? fragment : fragment.slice(0, kept) || undefined;
    }
    tool.held += fragment;
    if (tool.mode === 'buffer') return undefined;
    const first = /\S/.exec(tool.held)?.[0];
    if (first === undefined) return undefined;
    if (first !== '{') {
      tool.mode = 'buffer';
      return undefined;
    }
    tool.mode = 'stream';
    const held = tool.held;
    tool.held = '';
    return held.slice(0, tool.json.read(held));
  }
}

function isFirstChoice(choice: { index?: unknown }): boolean {
  return choice.index === 0 || choice.index === undefined || choice.index === null;
}

/** A delta's arguments as text: an upstream may send them as an object, not as its JSON text. */
function argumentsText(args: unknown): string | undefined {
  if (typeof args === 'string' || args === undefined) return args;
  return typeof args === 'object' && args !== null ? JSON.stringify(args) : undefined;
}

function inputDelta(index: number, partialJson: string): AnthropicSseEvent {
  return sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partialJson } });
}

/**
 * Pure stream translation: Anthropic's events for a stream of chat chunks. An
 * error thrown by the chunk iterator propagates unchanged (the SSE writer sends
 * it as an `error` event); nothing is emitted before the first chunk arrives.
 */
export async function* chatChunksToAnthropicEvents(
  chunks: AsyncIterable<ChatChunk>,
  requestedModel: string,
): AsyncGenerator<AnthropicSseEvent> {
  const mapper = new AnthropicEventMapper(requestedModel);
  for await (const chunk of chunks) {
    yield* mapper.push(chunk);
  }
  yield* mapper.finish();
}
