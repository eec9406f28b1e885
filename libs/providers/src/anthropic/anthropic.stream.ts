import type {
  AnthropicDeltaUsage,
  AnthropicStreamEvent,
  AnthropicUsage,
  ChatChunk,
  ChatChunkDelta,
  ChatFinishReason,
  ChatReasoning,
  Usage,
} from '@app/contracts';
import { ProviderError } from '../errors';
import { readUpstream } from '../shared/http';
import { finishReason, toOpenAIUsage } from './anthropic.response';

export interface StreamContext {
  /** The tool that carries a `response_format` answer; its input streams as content. */
  jsonTool?: string;
  /** Unix seconds; injectable for tests. */
  created?: number;
  /** For the error raised when the stream stops before `message_stop`. */
  provider?: string;
}

interface ToolBlock {
  /** OpenAI's `tool_calls[].index`; absent for the JSON answer tool. */
  toolIndex?: number;
  startInput: unknown;
  sentArguments: boolean;
}

/** Where {@link startedUsage} finds a chunk's usage: a non-enumerable property, never on the wire nor copied. */
const STARTED_USAGE = Symbol('usage at the start');

/**
 * The usage Anthropic gave at the start of a stream (`message_start`: the prompt
 * counted, cache reads and writes included, the output barely begun), carried by the
 * stream's first chunk. A stream cut before its usage chunk settles on it: the prompt
 * as counted, rather than estimated.
 */
export function startedUsage(chunk: object): Usage | undefined {
  return (chunk as { [STARTED_USAGE]?: Usage })[STARTED_USAGE];
}

/** A streamed message's usage so far: message_start's, updated by message_delta's. */
export type AnthropicUsageState = Pick<AnthropicUsage, 'input_tokens' | 'output_tokens'> &
  Partial<Pick<AnthropicUsage, 'cache_read_input_tokens' | 'cache_creation_input_tokens' | 'output_tokens_details'>>;
type UsageState = AnthropicUsageState;

/**
 * The usage after a message_delta: its output tokens (a running total), and the
 * input and cache counts it repeats or corrects (left out or null when unchanged).
 */
export function withDeltaUsage(usage: AnthropicUsageState, delta: AnthropicDeltaUsage): AnthropicUsageState {
  const next: UsageState = { ...usage, output_tokens: delta.output_tokens };
  if (delta.input_tokens !== null && delta.input_tokens !== undefined) next.input_tokens = delta.input_tokens;
  if (isCount(delta.cache_read_input_tokens)) next.cache_read_input_tokens = delta.cache_read_input_tokens;
  if (isCount(delta.cache_creation_input_tokens)) next.cache_creation_input_tokens = delta.cache_creation_input_tokens;
  if (delta.output_tokens_details) next.output_tokens_details = delta.output_tokens_details;
  return next;
}

/**
 * Anthropic stream events -> OpenAI chunks, one event at a time: a role chunk,
 * text deltas, thinking (`reasoning_content` and `thinking_blocks` deltas, the
 * block's signature last; a redacted block whole), tool calls (id and name first, then argument fragments), a finish
 * chunk and a final usage chunk with `choices: []`. Pure apart from its own state.
 */
export class AnthropicChunkMapper {
  private id = '';
  private model = '';
  private readonly created: number;
  private usage: UsageState = { input_tokens: 0, output_tokens: 0 };
  private stopReason: ChatFinishReason | null = null;
  private readonly blocks = new Map<number, ToolBlock>();
  private nextToolIndex = 0;
  private answeredByJsonTool = false;
  finished = false;

  constructor(private readonly ctx: StreamContext = {}) {
    this.created = ctx.created ?? Math.floor(Date.now() / 1000);
  }

  push(event: AnthropicStreamEvent): ChatChunk[] {
    switch (event.type) {
      case 'message_start':
        this.id = event.message.id;
        this.model = event.message.model;
        this.usage = { ...event.message.usage };
        return [this.startChunk()];
      case 'content_block_start':
        return this.startBlock(event.index, event.content_block);
      case 'content_block_delta':
        return this.delta(event.index, event.delta);
      case 'content_block_stop':
        return this.stopBlock(event.index);
      case 'message_delta':
        this.usage = withDeltaUsage(this.usage, event.usage);
        this.stopReason = finishReason(event.delta.stop_reason, this.answeredByJsonTool);
        return [];
      case 'message_stop':
        this.finished = true;
        return [this.chunk({}, this.stopReason ?? 'stop'), this.usageChunk()];
      default:
        return [];
    }
  }

  private startBlock(
    index: number,
    block: Extract<AnthropicStreamEvent, { type: 'content_block_start' }>['content_block'],
  ): ChatChunk[] {
    if (block.type === 'text') return block.text ? [this.chunk({ content: block.text })] : [];
    if (block.type === 'thinking') return block.thinking ? [this.thinkingChunk(block.thinking)] : [];
    if (block.type === 'redacted_thinking') {
      return [this.chunk(reasoningDelta({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] }))];
    }
    if (block.type !== 'tool_use') return [];
    if (this.ctx.jsonTool && block.name === this.ctx.jsonTool) {
      this.answeredByJsonTool = true;
      this.blocks.set(index, { startInput: block.input, sentArguments: false });
      return [];
    }
    const toolIndex = this.nextToolIndex++;
    this.blocks.set(index, { toolIndex, startInput: block.input, sentArguments: false });
    return [
      this.chunk({
        tool_calls: [
          { index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
        ],
      }),
    ];
  }

  private delta(
    index: number,
    delta: Extract<AnthropicStreamEvent, { type: 'content_block_delta' }>['delta'],
  ): ChatChunk[] {
    if (delta.type === 'text_delta') return delta.text ? [this.chunk({ content: delta.text })] : [];
    if (delta.type === 'thinking_delta') return delta.thinking ? [this.thinkingChunk(delta.thinking)] : [];
    if (delta.type === 'signature_delta') {
      const signature = { type: 'thinking' as const, thinking: '', signature: delta.signature };
      return [this.chunk(reasoningDelta({ thinking_blocks: [signature] }))];
    }
    if (delta.type !== 'input_json_delta' || !delta.partial_json) return [];
    const block = this.blocks.get(index);
    if (!block) return [];
    block.sentArguments = true;
    return [this.argumentsChunk(block, delta.partial_json)];
  }

  /** A tool whose input never streamed (empty, or given whole at the start) still gets its JSON. */
  private stopBlock(index: number): ChatChunk[] {
    const block = this.blocks.get(index);
    if (!block || block.sentArguments) return [];
    block.sentArguments = true;
    return [this.argumentsChunk(block, JSON.stringify(block.startInput ?? {}))];
  }

  /** Thinking text as LiteLLM streams it: `reasoning_content`, and the same text as a `thinking_blocks` entry. */
  private thinkingChunk(thinking: string): ChatChunk {
    return this.chunk(
      reasoningDelta({ reasoning_content: thinking, thinking_blocks: [{ type: 'thinking', thinking }] }),
    );
  }

  private argumentsChunk(block: ToolBlock, fragment: string): ChatChunk {
    if (block.toolIndex === undefined) return this.chunk({ content: fragment });
    return this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: fragment } }] });
  }

  private chunk(delta: ChatChunkDelta, finish: ChatFinishReason | null = null): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
  }

  /** The role chunk, carrying message_start's usage (see {@link startedUsage}). */
  private startChunk(): ChatChunk {
    const chunk = this.chunk({ role: 'assistant', content: '' });
    Object.defineProperty(chunk, STARTED_USAGE, { value: toOpenAIUsage(this.usage) });
    return chunk;
  }

  private usageChunk(): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage: toOpenAIUsage(this.usage),
    };
  }
}

/** The chat delta type has no reasoning fields: they are LiteLLM's extension (see `ChatReasoning`). */
function reasoningDelta(fields: ChatReasoning): ChatChunkDelta {
  return fields as ChatChunkDelta;
}

function isCount(value: number | null | undefined): value is number {
  return typeof value === 'number';
}

/** Maps a whole event stream; a stream that stops before `message_stop` is an upstream error. */
export async function* anthropicStreamToChunks(
  events: AsyncIterable<AnthropicStreamEvent>,
  ctx: StreamContext = {},
): AsyncGenerator<ChatChunk> {
  const mapper = new AnthropicChunkMapper(ctx);
  // Read to the end even after `message_stop`: leaving early would abort the
  // response and cost the pooled connection.
  for await (const event of events) {
    if (mapper.finished) continue;
    for (const chunk of readUpstream(`a ${String(event?.type)} event`, () => mapper.push(event))) yield chunk;
  }
  if (mapper.finished) return;
  const provider = ctx.provider ?? 'anthropic';
  throw new ProviderError('upstream_error', `provider '${provider}' ended the stream before the message was complete`, {
    provider,
    reason: 'server',
    retryable: true,
  });
}
