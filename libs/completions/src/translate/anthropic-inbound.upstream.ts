import { type ChatMessage, type ChatReasoning, type ChatRequest, isObject } from '@app/contracts';
import type { ProviderKind, ReasoningField } from '@app/providers';
import { THINKING_HISTORY } from './anthropic-inbound.request';
import { CHAT_PARAMETERS } from './chat-parameters';

type Marked = ChatRequest & { [THINKING_HISTORY]?: true };

/**
 * A translated Messages request as one provider kind takes it. What is left of
 * the Anthropic body after `anthropicToChat` (`temperature`, `top_p`, `top_k`,
 * `thinking`, `service_tier`, `container`, `mcp_servers`, `context_management`,
 * fields Anthropic adds later, a client's own extras) passes through, as unknown
 * fields do on chat, to the providers that take it: the Anthropic provider maps
 * what it knows; OpenAI-compatible servers (vLLM...) and Ollama ignore the rest.
 * Earlier thinking blocks (the assistant messages' `thinking_blocks`) and the
 * client's `anthropic-beta` header (`betas`) reach only Anthropic providers; the
 * blocks' text goes to a provider that names a field for it (`reasoningHistory`).
 * Prompt-caching marks (`cache_control` on parts) reach all but OpenAI, Azure
 * OpenAI and Gemini.
 */

/**
 * Provider kinds whose chat API refuses the whole request for one argument it
 * does not know (OpenAI's 400 "Unrecognized request argument supplied"): OpenAI,
 * and Azure OpenAI and Gemini's OpenAI endpoint, which follow it.
 */
const STRICT_KINDS: ReadonlySet<ProviderKind> = new Set<ProviderKind>(['openai', 'azure-openai', 'gemini']);

/**
 * Anthropic's `service_tier` for OpenAI: `standard_only` is OpenAI's `default`
 * (standard capacity and price); `auto` (priority capacity where the account has
 * it) means the same on both, as do OpenAI's own values a client may send.
 * Azure's deployments API and Gemini have no such argument.
 */
function serviceTier(tier: unknown, kind: ProviderKind): Pick<ChatRequest, 'service_tier'> {
  if (kind !== 'openai' || tier === undefined) return {};
  return { service_tier: tier === 'standard_only' ? 'default' : (tier as ChatRequest['service_tier']) };
}

/**
 * For OpenAI, Azure OpenAI and Gemini, only Chat Completions arguments are sent:
 * the Anthropic fields with an equivalent were translated by `anthropicToChat`
 * (`metadata.user_id` -> `user`, `stop_sequences` -> `stop`, `output_config` ->
 * `reasoning_effort` / `response_format`) or are translated here (`service_tier`);
 * the others have none and are left out. `top_k` is a sampling hint; `thinking`
 * has no faithful equivalent (a token budget is not an effort level, and
 * `reasoning_effort` is refused by models that do not reason: the Anthropic way
 * to ask for an effort, `output_config.effort`, is the one mapped); `container`,
 * `mcp_servers`, `context_management` and the like configure Anthropic's own
 * servers. The client's `anthropic-beta` header reaches Anthropic providers alone;
 * other client headers never reach a provider.
 */
export function messagesRequestFor(
  req: ChatRequest,
  kind: ProviderKind,
  reasoningHistory?: ReasoningField,
): ChatRequest {
  if (kind === 'anthropic') return req;
  const field = STRICT_KINDS.has(kind) ? undefined : reasoningHistory;
  if (field || (req as Marked)[THINKING_HISTORY]) req = withReasoningIn(req, field);
  if (!STRICT_KINDS.has(kind)) return req['betas'] === undefined ? req : withoutBetas(req);
  const { service_tier: tier, ...rest } = withoutCacheMarks(req);
  const kept = Object.fromEntries(Object.entries(rest).filter(([key]) => CHAT_PARAMETERS.has(key)));
  return { ...(kept as ChatRequest), ...serviceTier(tier, kind) };
}

/**
 * A chat request as one provider kind takes it. OpenAI-format clients get Anthropic's
 * thinking as `reasoning_content` and `thinking_blocks` on assistant messages (see
 * `ChatReasoning`) and send them back with the history: OpenAI, Azure OpenAI and
 * Gemini refuse a message field they do not know, so their assistant turns go without
 * them; the others get the history as sent, their server decides (DeepSeek wants its
 * own `reasoning_content` back in a tool round).
 */
export function chatRequestFor(req: ChatRequest, kind: ProviderKind): ChatRequest {
  return STRICT_KINDS.has(kind) ? withoutReasoning(req) : req;
}

/** The request without the assistant turns' reasoning fields; itself when none has any. */
function withoutReasoning(req: ChatRequest): ChatRequest {
  let messages: ChatMessage[] | undefined;
  for (let i = 0; i < req.messages.length; i++) {
    const msg = req.messages[i];
    if (msg.role !== 'assistant' || !('thinking_blocks' in msg || 'reasoning_content' in msg)) continue;
    const { thinking_blocks: _blocks, reasoning_content: _text, ...rest } = msg as typeof msg & ChatReasoning;
    (messages ??= req.messages.slice())[i] = rest;
  }
  return messages ? { ...req, messages } : req;
}

/**
 * The request without Anthropic's prompt-caching marks on content parts
 * (`cache_control`, kept there for the servers that use them: OpenRouter,
 * LiteLLM): OpenAI, Azure OpenAI and Gemini cache by prefix on their own, and
 * may refuse a part field they do not know. Itself when no part has one.
 */
function withoutCacheMarks(req: ChatRequest): ChatRequest {
  let messages: ChatMessage[] | undefined;
  for (let i = 0; i < req.messages.length; i++) {
    const content: unknown = req.messages[i].content;
    if (!Array.isArray(content) || !content.some((part) => isObject(part) && 'cache_control' in part)) continue;
    const parts = content.map((part: unknown) => {
      if (!isObject(part) || !('cache_control' in part)) return part;
      const { cache_control: _mark, ...rest } = part;
      return rest;
    });
    (messages ??= req.messages.slice())[i] = { ...req.messages[i], content: parts } as ChatMessage;
  }
  return messages ? { ...req, messages } : req;
}

/** The client's `anthropic-beta` header (as `betas`, see `withClientBetas`) is for Anthropic alone. */
function withoutBetas(req: ChatRequest): ChatRequest {
  const { betas: _betas, ...rest } = req;
  return rest;
}

/**
 * Earlier thinking blocks are Anthropic's, signed for Anthropic's models, or the
 * unsigned reasoning of an OpenAI-shaped server: other providers get the assistant
 * turns without them. Servers differ on the field they would take reasoning back in
 * (DeepSeek's `reasoning_content` is refused by Groq and Cerebras; OpenAI refuses
 * any), so only a provider that names one (`reasoningHistory`) gets each turn's
 * thinking text there, and an empty one on a tool round that had none: DeepSeek's
 * thinking mode refuses a tool round without it.
 */
function withReasoningIn(req: ChatRequest, field: ReasoningField | undefined): ChatRequest {
  let messages: ChatMessage[] | undefined;
  for (let i = 0; i < req.messages.length; i++) {
    const msg = req.messages[i];
    if (msg.role !== 'assistant') continue;
    const blocks = (msg as ChatReasoning).thinking_blocks;
    const toolRound = (msg.tool_calls?.length ?? 0) > 0;
    if (blocks === undefined && !(field && toolRound)) continue;
    const { thinking_blocks: _blocks, ...rest } = msg as typeof msg & ChatReasoning;
    const text = thinkingText(blocks);
    (messages ??= req.messages.slice())[i] = field && (text || toolRound) ? { ...rest, [field]: text } : rest;
  }
  if (!messages && !(req as Marked)[THINKING_HISTORY]) return req;
  const out: Marked = { ...req, messages: messages ?? req.messages, [THINKING_HISTORY]: undefined };
  return out;
}

/** The text of a turn's `thinking` blocks, one after the other (redacted ones have none). */
function thinkingText(blocks: ChatReasoning['thinking_blocks']): string {
  return (blocks ?? [])
    .map((block) => (block.type === 'thinking' ? block.thinking : ''))
    .filter(Boolean)
    .join('\n\n');
}
