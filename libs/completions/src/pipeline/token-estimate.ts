import type { ChatRequest } from '@app/contracts';

/** Rough token count of any content: ~4 characters a token, as OpenAI's own rule of thumb. */
export function estimateTokens(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Math.ceil(value.length / 4);
  if (typeof value === 'number' || typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + estimateTokens(item), 0);
  let sum = 0;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    // An image costs tokens, but its base64 body says nothing about how many.
    if (key === 'url' && typeof item === 'string' && item.startsWith('data:')) sum += 765;
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
