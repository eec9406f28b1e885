import type { AnthropicMessageRequest, ChatRequest } from '@app/contracts';

/** An image costs tokens, but its base64 body says nothing about how many. */
const IMAGE_TOKENS = 765;
/**
 * A document's bytes per token: a PDF page costs 1,500-3,000 tokens (its text, and
 * the page as an image) in some 50-100 kB. Read as text, its base64 body would count
 * ~100 times that, and refuse a key with a tokens-per-minute limit any PDF.
 */
const DOCUMENT_BYTES_PER_TOKEN = 30;

/** Tokens of a document sent as base64 (`chars` characters of it, a data URL's prefix included). */
function documentTokens(chars: number): number {
  return Math.ceil((chars * 3) / 4 / DOCUMENT_BYTES_PER_TOKEN);
}

/** Rough token count of any content: ~4 characters a token, as OpenAI's own rule of thumb. */
export function estimateTokens(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Math.ceil(value.length / 4);
  if (typeof value === 'number' || typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + estimateTokens(item), 0);
  const record = value as Record<string, unknown>;
  // Anthropic's image and document sources (`{type: 'base64', media_type, data}`).
  if (record['type'] === 'base64' && typeof record['data'] === 'string') {
    return String(record['media_type']).startsWith('image/') ? IMAGE_TOKENS : documentTokens(record['data'].length);
  }
  let sum = 0;
  for (const [key, item] of Object.entries(record)) {
    // OpenAI's image part (`image_url.url`, a data URL).
    if (key === 'url' && typeof item === 'string' && item.startsWith('data:')) sum += IMAGE_TOKENS;
    // OpenAI's file part (`file.file_data`, a data URL: a PDF).
    else if (key === 'file_data' && typeof item === 'string' && item.startsWith('data:'))
      sum += documentTokens(item.length);
    else sum += estimateTokens(item);
  }
  return sum;
}

/**
 * Tokens a chat request may consume, for the TPM check before the upstream call:
 * the prompt plus the completion the client allows (corrected with actual usage after).
 */
export function estimateChatTokens(req: ChatRequest): number {
  const completion = req.max_completion_tokens ?? req.max_tokens ?? 0;
  return estimatePromptTokens(req) + (completion ?? 0) * (req.n ?? 1);
}

/** Rough input tokens of a chat request: its messages (with ~3 tokens of framing each) and tool definitions. */
export function estimatePromptTokens(req: ChatRequest): number {
  return estimateTokens(req.messages) + estimateTokens(req.tools) + 3 * req.messages.length;
}

/** Rough input tokens of a Messages request, read off its body as those of a chat request are: system, messages (~3 tokens of framing each), tools. */
export function estimateMessagesPromptTokens(
  body: Pick<AnthropicMessageRequest, 'system' | 'messages' | 'tools'>,
): number {
  const turns = body.messages.length + (body.system ? 1 : 0);
  return estimateTokens(body.system) + estimateTokens(body.messages) + estimateTokens(body.tools) + 3 * turns;
}

/** Tokens a Messages request may consume, for the TPM check: its prompt plus the `max_tokens` it allows. */
export function estimateMessagesTokens(body: AnthropicMessageRequest): number {
  return estimateMessagesPromptTokens(body) + body.max_tokens;
}
