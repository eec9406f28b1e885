import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '@app/contracts';
import { plainText } from '@app/providers';

/** Shared helpers for the emulations that speak to a model through its prompt. */

/** The text of message content (string or parts); non-text parts are skipped. */
export const contentText = plainText;

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
