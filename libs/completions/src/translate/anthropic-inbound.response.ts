import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicStopReason,
  AnthropicUsage,
  ChatFinishReason,
  ChatFunctionToolCall,
  ChatReasoning,
  ChatResponse,
  Usage,
} from '@app/contracts';
import { extractJson } from './json-extract';
import { randomId } from './prompt-messages';

/** Canonical chat response -> Anthropic Message (inbound `POST /v1/messages`). Pure. */

/**
 * `msg_` + the chat id without OpenAI's `chatcmpl-` prefix (an id that already
 * is an Anthropic message id is kept), so logs on both sides correlate.
 */
export function anthropicMessageId(chatId: string | undefined): string {
  if (!chatId) return randomId('msg_');
  if (chatId.startsWith('msg_')) return chatId;
  const core = chatId.replace(/^chatcmpl-/, '').replace(/[^A-Za-z0-9_-]/g, '');
  return core ? `msg_${core}` : randomId('msg_');
}

/**
 * OpenAI finish reasons in Anthropic's words. A reply that carries tool calls is
 * `tool_use` whatever the upstream said (several OpenAI-compatible servers
 * answer tool calls with `stop`), since Anthropic clients loop on it.
 */
export function anthropicStopReason(
  finish: ChatFinishReason | null | undefined,
  hasToolUse: boolean,
  stopSequence: string | null,
): AnthropicStopReason {
  if (hasToolUse && finish !== 'length') return 'tool_use';
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence !== null ? 'stop_sequence' : 'end_turn';
  }
}

/**
 * The stop sequence that ended a `stop` finish, when the upstream says so: vLLM
 * reports it as the choice's `stop_reason`; `stop_sequence` is accepted as well
 * (a canonical extension an adapter may set). OpenAI itself never says.
 */
export function matchedStopSequence(choice: object | undefined): string | null {
  if (!choice) return null;
  const fields = choice as { stop_sequence?: unknown; stop_reason?: unknown };
  if (typeof fields.stop_sequence === 'string') return fields.stop_sequence;
  return typeof fields.stop_reason === 'string' ? fields.stop_reason : null;
}

/** Anthropic usage: `input_tokens` excludes cache reads, which are reported apart. */
export function anthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const prompt = usage?.prompt_tokens ?? 0;
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  return {
    input_tokens: Math.max(0, prompt - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: typeof reasoning === 'number' ? { thinking_tokens: reasoning } : null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
  };
}

/**
 * A tool call's arguments as Anthropic's `input` object. Arguments that are not
 * a JSON object are read leniently (code fences, trailing prose); failing that
 * the input is `{}` — an Anthropic client cannot receive anything but an object,
 * and an empty one makes the tool report the missing arguments to the model.
 * Arguments an upstream sent as an object, not as its JSON text, are taken as they are.
 */
export function toolInput(args: unknown): Record<string, unknown> {
  const value = typeof args !== 'string' ? args : args.trim() === '' ? {} : extractJson(args);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The thinking blocks of a reply (`thinking_blocks`, from an Anthropic provider or
 * a LiteLLM-style server), as Anthropic's blocks: a `thinking` entry with its
 * signature, a `redacted_thinking` one with its data. Entries of another shape are
 * no Anthropic block and are left out. Reasoning text alone is {@link reasoningText}.
 */
export function thinkingContent(blocks: unknown): AnthropicContentBlock[] {
  if (!Array.isArray(blocks)) return [];
  const out: AnthropicContentBlock[] = [];
  for (const block of blocks as Array<Partial<Record<string, unknown>> | null>) {
    if (block?.type === 'thinking' && typeof block.thinking === 'string') {
      const signature = typeof block.signature === 'string' ? block.signature : '';
      out.push({ type: 'thinking', thinking: block.thinking, signature });
    } else if (block?.type === 'redacted_thinking' && typeof block.data === 'string') {
      out.push({ type: 'redacted_thinking', data: block.data });
    }
  }
  return out;
}

/**
 * The reasoning text of a reply's message or stream delta from an OpenAI-shaped
 * server: `reasoning_content` (DeepSeek, vLLM's reasoning parsers, LiteLLM) or else
 * `reasoning` (OpenRouter, Ollama, newer vLLM). A server that sends both sends the
 * same text twice, so one is taken, never both. `''` when there is none.
 */
export function reasoningText(fields: object): string {
  const { reasoning_content: content, reasoning } = fields as { reasoning_content?: unknown; reasoning?: unknown };
  if (typeof content === 'string' && content !== '') return content;
  return typeof reasoning === 'string' ? reasoning : '';
}

/**
 * Whether a message or delta carries thinking blocks, which then stand for its
 * thinking: an Anthropic provider's `reasoning_content` repeats their text.
 */
export function hasThinkingBlocks(fields: object): boolean {
  const blocks = (fields as ChatReasoning).thinking_blocks;
  return Array.isArray(blocks) && blocks.length > 0;
}

/**
 * The reply's thinking as Anthropic blocks: its thinking blocks, or else its
 * reasoning text as one `thinking` block with an empty `signature` (no signature
 * exists for it; the SDK types it a string, and an Anthropic provider leaves such
 * a block out of the history it is sent back in).
 */
function thinkingFirst(message: object): AnthropicContentBlock[] {
  if (hasThinkingBlocks(message)) return thinkingContent((message as ChatReasoning).thinking_blocks);
  const thinking = reasoningText(message);
  return thinking ? [{ type: 'thinking', thinking, signature: '' }] : [];
}

/** Thinking first (Anthropic's order), then text, then tool calls. */
function contentBlocks(message: ChatResponse['choices'][number]['message'] | undefined): AnthropicContentBlock[] {
  if (!message) return [];
  const blocks = thinkingFirst(message);
  const text = message.content || message.refusal;
  if (text) blocks.push({ type: 'text', text, citations: null });
  const calls = (message.tool_calls ?? []).filter((call): call is ChatFunctionToolCall => call.type === 'function');
  for (const call of calls) {
    blocks.push({
      type: 'tool_use',
      // A tool_result answers its call by this id: a call an upstream sent without one gets one.
      id: call.id || randomId('toolu_'),
      name: call.function.name,
      input: toolInput(call.function.arguments),
      caller: { type: 'direct' },
    });
  }
  return blocks;
}

/**
 * Pure: the first choice of a chat response as an Anthropic Message, under the
 * model name the client asked for. Thinking blocks (`thinking_blocks`) come
 * first, as they were, or else the reasoning text of an OpenAI-shaped server
 * (`reasoning_content` / `reasoning`) as an unsigned thinking block; text (or a
 * refusal's text) becomes a text block, function tool calls `tool_use` blocks;
 * finish reasons map
 * stop -> end_turn (stop_sequence when the upstream names the match),
 * length -> max_tokens, tool_calls -> tool_use, content_filter -> refusal.
 */
export function chatToAnthropic(res: ChatResponse, requestedModel: string): AnthropicMessage {
  const choice = res.choices[0];
  const content = contentBlocks(choice?.message);
  const stopSequence = choice?.finish_reason === 'stop' ? matchedStopSequence(choice) : null;
  const stopReason = anthropicStopReason(
    choice?.finish_reason,
    content.some((b) => b.type === 'tool_use'),
    stopSequence,
  );
  return {
    id: anthropicMessageId(res.id),
    type: 'message',
    role: 'assistant',
    model: requestedModel,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? stopSequence : null,
    stop_details: stopReason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null,
    container: null,
    diagnostics: null,
    usage: anthropicUsage(res.usage),
  };
}
