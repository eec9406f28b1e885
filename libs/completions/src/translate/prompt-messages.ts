import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '@app/contracts';

/** Shared helpers for the emulations that speak to a model through its prompt. */

interface TextLike {
  type: string;
  text?: string;
  refusal?: string;
}

/** The text of message content (string or parts); non-text parts are skipped. */
export function contentText(content: string | ReadonlyArray<TextLike> | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => part.text ?? part.refusal ?? '')
    .filter((text) => text.length > 0)
    .join('\n');
}

/**
 * Adds an instruction to the system prompt: appended to a leading system message
 * (chat templates of many open models accept one system message, first), or as a
 * new first system message.
 */
export function withSystemInstruction(messages: ChatMessage[], instruction: string): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first?.role === 'system') {
    const text = contentText(first.content);
    return [{ ...first, content: text ? `${text}\n\n${instruction}` : instruction }, ...rest];
  }
  return [{ role: 'system', content: instruction }, ...messages];
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `<prefix><24 random alphanumerics>`, the shape of OpenAI's and Anthropic's ids. */
export function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const byte of bytes) out += ID_ALPHABET[byte % ID_ALPHABET.length];
  return out;
}
