import type { AnthropicMessageParam, AnthropicMessageRequest } from '@app/contracts';

/**
 * A Messages request as an Anthropic provider takes it natively (inbound
 * `POST /v1/messages`): as the client sent it, but for the assistant turns'
 * `thinking` blocks with an empty signature. The gateway writes those itself,
 * for the reasoning text of other providers (see `chatToAnthropic`); Anthropic
 * could not verify them and would refuse the request, so they are left out, as
 * the translation leaves them out (a turn left with nothing goes too). Pure; the
 * body itself when it has none, as nearly every one.
 */
export function nativeMessagesRequest<T extends Pick<AnthropicMessageRequest, 'messages'> = AnthropicMessageRequest>(
  body: T,
): T {
  if (!body.messages.some(hasUnsignedThinking)) return body;
  const messages = body.messages.flatMap((message): AnthropicMessageParam[] => {
    if (message.role !== 'assistant' || typeof message.content === 'string' || !hasUnsignedThinking(message)) {
      return [message];
    }
    const content = message.content.filter((block) => !(block.type === 'thinking' && block.signature === ''));
    return content.length ? [{ ...message, content }] : [];
  });
  return { ...body, messages };
}

function hasUnsignedThinking(message: AnthropicMessageParam): boolean {
  return (
    message.role === 'assistant' &&
    Array.isArray(message.content) &&
    message.content.some((block) => block.type === 'thinking' && block.signature === '')
  );
}
