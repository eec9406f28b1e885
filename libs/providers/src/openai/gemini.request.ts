import type { ChatMessage, ChatRequest } from '@app/contracts';

/**
 * Google's documented stand-in for a thought signature the client no longer has:
 * Gemini 3 refuses (400 "Function call is missing a thought_signature") a history
 * whose assistant tool calls come back without the signature Gemini gave them.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

interface SignedCall {
  extra_content?: { google?: { thought_signature?: unknown } };
}

const signed = (call: unknown): boolean =>
  typeof (call as SignedCall | null)?.extra_content?.google?.thought_signature === 'string';

/**
 * Pure: a chat request for Gemini's OpenAI endpoint, each assistant turn whose tool
 * calls carry no thought signature given Google's stand-in on its first call, as
 * Gemini itself signs only the first of parallel calls. Histories that lost the
 * signatures (translated from Anthropic's Messages API, whose `tool_use` blocks have
 * no place for one; stored by a client that kept only OpenAI's fields) are then
 * accepted; a turn with its signatures is sent as it came. Itself when nothing changes.
 */
export function toGeminiChatRequest(request: ChatRequest): ChatRequest {
  if (!request.messages.some(unsignedToolTurn)) return request;
  const messages = request.messages.map((message): ChatMessage => {
    if (message.role !== 'assistant' || !unsignedToolTurn(message)) return message;
    const [first, ...rest] = message.tool_calls ?? [];
    // `extra_content` is Google's extension of the call, which OpenAI's types do not name.
    const stand = { ...first, extra_content: { google: { thought_signature: SKIP_THOUGHT_SIGNATURE } } };
    return { ...message, tool_calls: [stand, ...rest] };
  });
  return { ...request, messages };
}

function unsignedToolTurn(message: ChatMessage): boolean {
  if (message.role !== 'assistant') return false;
  const calls: unknown = message.tool_calls;
  return Array.isArray(calls) && calls.length > 0 && !calls.some(signed);
}
