import { describe, expect, it } from 'vitest';
import { completionRequestSchema, embeddingRequestSchema } from './completion-request.schema';

const message = (result: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } }) =>
  result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

describe('legacy completion prompts and embedding inputs', () => {
  it('take text, texts, token ids and lists of token ids, and nothing else', () => {
    for (const prompt of ['hi', ['a', 'b'], [1, 2, 3], [[1, 2], [3]], [], [[]]]) {
      expect(completionRequestSchema.safeParse({ model: 'm', prompt }).success).toBe(true);
    }
    const refused = `prompt must be a string, an array of strings, an array of token ids, or an array of token id arrays`;
    for (const prompt of [1, null, {}, ['a', 1], [1, 'a'], [1.5], [-1], [[1], 'a'], [[1, -2]], [{}], [true], [null]]) {
      expect(message(completionRequestSchema.safeParse({ model: 'm', prompt }))).toEqual([`prompt: ${refused}`]);
    }
    expect(message(embeddingRequestSchema.safeParse({ model: 'm', input: [[1], ['a']] }))).toEqual([
      'input: input must be a string, an array of strings, an array of token ids, or an array of token id arrays',
    ]);
    expect(message(embeddingRequestSchema.safeParse({ model: 'm', input: [[1], []] }))).toEqual([
      'input.1: must not be empty',
    ]);
  });

  it('check a flat list of millions of token ids in one pass (a union of the four forms held the event loop for seconds)', () => {
    const input = new Array<number>(4_000_000).fill(1);
    const started = performance.now();
    expect(message(embeddingRequestSchema.safeParse({ model: 'm', input }))).toEqual([
      'input: input must have at most 2048 items',
    ]);
    expect(completionRequestSchema.safeParse({ model: 'm', prompt: input }).success).toBe(true);
    input[input.length - 1] = -1;
    expect(completionRequestSchema.safeParse({ model: 'm', prompt: input }).success).toBe(false);
    // ~40 ms in one pass; the union took ~5 s on the same machine.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
