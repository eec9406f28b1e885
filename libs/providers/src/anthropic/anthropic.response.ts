import type {
  AnthropicContentBlock,
  AnthropicDeltaUsage,
  AnthropicMessage,
  AnthropicStopReason,
  AnthropicUsage,
  ChatFinishReason,
  ChatFunctionToolCall,
  ChatReasoning,
  ChatResponse,
  ChatThinkingBlock,
  Usage,
} from '@app/contracts';

export interface ResponseContext {
  /** The tool that carries a `response_format` answer (see `anthropic.request.ts`). */
  jsonTool?: string;
  /** Unix seconds; injectable for tests. */
  created?: number;
}

/** Anthropic's stop reasons in OpenAI's words (one table for JSON and streams). */
export function finishReason(
  reason: AnthropicStopReason | null | undefined,
  answeredByJsonTool = false,
): ChatFinishReason {
  switch (reason) {
    case 'tool_use':
      return answeredByJsonTool ? 'stop' : 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
    case null:
    case undefined:
      return 'stop';
    default:
      return 'stop';
  }
}

/**
 * A token count as a count: a whole number, not negative. Anything else an upstream
 * sends there (text, a fraction, a negative number, null) counts as nothing: added up
 * as it came, `"10"` made `"1000"`; the gateway estimates a usage that counts nothing.
 */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

type UsageLike = Pick<AnthropicUsage, 'input_tokens' | 'output_tokens'> &
  Partial<Pick<AnthropicUsage, 'cache_read_input_tokens' | 'cache_creation_input_tokens' | 'output_tokens_details'>>;

/**
 * OpenAI usage: every prompt token counts (fresh, cache reads and cache writes),
 * cache reads are reported as `cached_tokens`.
 */
export function toOpenAIUsage(usage: UsageLike | AnthropicDeltaUsage): Usage {
  const cacheRead = tokenCount(usage.cache_read_input_tokens);
  const cacheWrite = tokenCount(usage.cache_creation_input_tokens);
  const prompt = tokenCount(usage.input_tokens) + cacheRead + cacheWrite;
  const completion = tokenCount(usage.output_tokens);
  const thinking: unknown = usage.output_tokens_details?.thinking_tokens;
  const reasoning = thinking === undefined || thinking === null ? undefined : tokenCount(thinking);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
    ...(reasoning !== undefined ? { completion_tokens_details: { reasoning_tokens: reasoning } } : {}),
  };
}

interface MappedContent {
  text: string;
  toolCalls: ChatFunctionToolCall[];
  answeredByJsonTool: boolean;
  /** Only when the answer has thinking blocks. */
  thinking?: ChatThinkingBlock[];
}

/**
 * Text blocks joined; tool_use blocks as tool calls; the JSON tool's input as the
 * text itself; `thinking` / `redacted_thinking` blocks kept as they are (signature
 * and data included) for the message's `thinking_blocks`.
 */
function mapContent(blocks: AnthropicContent[], jsonTool: string | undefined): MappedContent {
  const json = jsonTool ? blocks.find((b) => b.type === 'tool_use' && b.name === jsonTool) : undefined;
  let text = '';
  const toolCalls: ChatFunctionToolCall[] = [];
  let thinking: ChatThinkingBlock[] | undefined;
  for (const block of blocks) {
    // A text block without text (null, left out) adds nothing: not the word "undefined".
    if (block.type === 'text') text += typeof block.text === 'string' ? block.text : '';
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    } else if (block.type === 'thinking') {
      (thinking ??= []).push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking') {
      (thinking ??= []).push({ type: 'redacted_thinking', data: block.data });
    }
  }
  if (json && json.type === 'tool_use') {
    return { text: JSON.stringify(json.input ?? {}), toolCalls: [], answeredByJsonTool: true, thinking };
  }
  return { text, toolCalls, answeredByJsonTool: false, thinking };
}

/** LiteLLM's reasoning fields: the thinking text (redacted blocks have none) and the blocks. */
export function reasoningFields(blocks: ChatThinkingBlock[]): Required<ChatReasoning> {
  let text = '';
  for (const block of blocks) if (block.type === 'thinking') text += block.thinking;
  return { reasoning_content: text, thinking_blocks: blocks };
}

type AnthropicContent = AnthropicContentBlock;

/** Pure: an Anthropic Message as an OpenAI chat completion. */
export function fromAnthropicMessage(msg: AnthropicMessage, ctx: ResponseContext = {}): ChatResponse {
  const { text, toolCalls, answeredByJsonTool, thinking } = mapContent(msg.content ?? [], ctx.jsonTool);
  return {
    id: msg.id,
    object: 'chat.completion',
    created: ctx.created ?? Math.floor(Date.now() / 1000),
    model: msg.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text.length > 0 || toolCalls.length === 0 ? text : null,
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          ...(thinking ? reasoningFields(thinking) : {}),
        },
        finish_reason: finishReason(msg.stop_reason, answeredByJsonTool),
        logprobs: null,
      },
    ],
    usage: toOpenAIUsage(msg.usage),
  };
}
