import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicStopReason,
  AnthropicUsage,
  ChatFinishReason,
  ChatFunctionToolCall,
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
 */
export function toolInput(args: string): Record<string, unknown> {
  const value = args.trim() === '' ? {} : extractJson(args);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function contentBlocks(message: ChatResponse['choices'][number]['message'] | undefined): AnthropicContentBlock[] {
  if (!message) return [];
  const blocks: AnthropicContentBlock[] = [];
  const text = message.content || message.refusal;
  if (text) blocks.push({ type: 'text', text, citations: null });
  const calls = (message.tool_calls ?? []).filter((call): call is ChatFunctionToolCall => call.type === 'function');
  for (const call of calls) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments),
      caller: { type: 'direct' },
    });
  }
  return blocks;
}

/**
 * Pure: the first choice of a chat response as an Anthropic Message, under the
 * model name the client asked for. Text (or a refusal's text) becomes a text
 * block, function tool calls `tool_use` blocks; finish reasons map
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
