import { describe, expect, it } from 'vitest';
import { addUsage } from './usage-sum';

describe('addUsage', () => {
  it('adds the counts and details of two calls', () => {
    expect(
      addUsage(
        {
          prompt_tokens: 10,
          completion_tokens: 2,
          total_tokens: 12,
          prompt_tokens_details: { cached_tokens: 4 },
        },
        {
          prompt_tokens: 20,
          completion_tokens: 3,
          total_tokens: 23,
          prompt_tokens_details: { cached_tokens: 1, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 2 },
        },
      ),
    ).toEqual({
      prompt_tokens: 30,
      completion_tokens: 5,
      total_tokens: 35,
      prompt_tokens_details: { cached_tokens: 5, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
  });

  it('keeps the one that exists, and nothing when neither does', () => {
    const one = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    expect(addUsage(undefined, one)).toBe(one);
    expect(addUsage(one, null)).toBe(one);
    expect(addUsage(null, undefined)).toBeUndefined();
  });
});
