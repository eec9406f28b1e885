import type { ChatRequest, CompletionRequest, EmbeddingRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { toOllamaChatRequest, toOllamaCompletionRequest, toOllamaEmbeddingRequest } from './ollama.request';

describe('toOllamaCompletionRequest: the one text prompt Ollama takes', () => {
  it('passes a text prompt as it is, and sends a list of one text as that text', () => {
    const text: CompletionRequest = { model: 'llama3', prompt: 'hi' };
    expect(toOllamaCompletionRequest(text)).toBe(text);
    expect(toOllamaCompletionRequest({ model: 'llama3', prompt: ['hi'], echo: true })).toEqual({
      model: 'llama3',
      prompt: 'hi',
    });
  });

  it.each<[string, CompletionRequest['prompt']]>([
    ['a batch of texts', ['a', 'b']],
    ['token ids', [1, 2, 3]],
    ['lists of token ids', [[1], [2]]],
  ])('refuses %s with a 400 naming prompt', (_name, prompt) => {
    expect(() => toOllamaCompletionRequest({ model: 'llama3', prompt })).toThrow(
      expect.objectContaining({ param: 'prompt', status: 400 }),
    );
  });
});

describe('toOllamaEmbeddingRequest: texts only', () => {
  it.each<EmbeddingRequest['input']>(['one', ['a', 'b']])('passes %j as it is', (input) => {
    const request: EmbeddingRequest = { model: 'nomic-embed-text', input };
    expect(toOllamaEmbeddingRequest(request)).toBe(request);
  });

  it.each<EmbeddingRequest['input']>([
    [1, 2, 3],
    [[1, 2], [3]],
  ])('refuses token ids %j naming input', (input) => {
    expect(() => toOllamaEmbeddingRequest({ model: 'nomic-embed-text', input })).toThrow(
      expect.objectContaining({ param: 'input', status: 400 }),
    );
  });
});

describe('toOllamaChatRequest: history as Ollama reads it', () => {
  it("sends an assistant turn's refusal (OpenAI's refusal field, content empty or null) as its content", () => {
    for (const content of [null, '', []]) {
      const req = {
        model: 'llama3',
        messages: [
          { role: 'user' as const, content: 'Do the bad thing.' },
          { role: 'assistant' as const, content, refusal: "I can't help with that." },
          { role: 'user' as const, content: 'Why not?' },
        ],
      } as ChatRequest;
      expect(toOllamaChatRequest(req).messages[1]).toMatchObject({
        role: 'assistant',
        content: "I can't help with that.",
      });
    }
    const said = { model: 'llama3', messages: [{ role: 'user' as const, content: 'x' }] } as ChatRequest;
    expect(toOllamaChatRequest(said)).toBe(said);
  });
});
