import { describe, expect, it } from 'vitest';
import {
  estimateChatTokens,
  estimateMessagesPromptTokens,
  estimateMessagesTokens,
  estimatePromptTokens,
} from './token-estimate';

describe('estimateMessagesTokens', () => {
  const text = 'x'.repeat(400);

  it("reads a Messages body as a chat request's estimate reads its translation: system, turns, tools, max_tokens", () => {
    const body = {
      model: 'm',
      max_tokens: 100,
      system: text,
      messages: [{ role: 'user' as const, content: text }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const }],
    };
    const prompt = estimateMessagesPromptTokens(body);
    // System, the turn (its text and role), the tool (type and name), ~3 tokens of framing a turn.
    expect(prompt).toBe(100 + 101 + 8 + 6);
    expect(estimateMessagesTokens(body)).toBe(prompt + 100);
    const chat = estimateChatTokens({
      model: 'm',
      max_tokens: 100,
      messages: [
        { role: 'system', content: text },
        { role: 'user', content: text },
      ],
    });
    expect(Math.abs(estimateMessagesTokens(body) - chat)).toBeLessThan(10);
  });

  it('counts a base64 image as an image, not as its data', () => {
    const image = {
      type: 'image' as const,
      source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'A'.repeat(400_000) },
    };
    const body = { model: 'm', max_tokens: 1, messages: [{ role: 'user' as const, content: [image] }] };
    expect(estimateMessagesPromptTokens(body)).toBeLessThan(800);
  });

  it('counts a base64 PDF by its size as pages are, not as text (~100 times as many)', () => {
    const data = 'A'.repeat(400_000); // ~300 kB: a handful of pages
    const document = {
      type: 'document' as const,
      source: { type: 'base64' as const, media_type: 'application/pdf' as const, data },
    };
    const body = { model: 'm', max_tokens: 1, messages: [{ role: 'user' as const, content: [document] }] };
    const anthropic = estimateMessagesPromptTokens(body);
    expect(anthropic).toBeGreaterThan(5_000);
    expect(anthropic).toBeLessThan(15_000);
    // The same PDF as OpenAI's file part.
    const file = {
      type: 'file' as const,
      file: { filename: 'a.pdf', file_data: `data:application/pdf;base64,${data}` },
    };
    const chat = estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: [file] }] });
    expect(Math.abs(chat - anthropic)).toBeLessThan(50);
  });
});
