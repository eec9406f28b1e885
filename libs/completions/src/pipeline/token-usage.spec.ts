import { describe, expect, it } from 'vitest';
import { ProviderError, type RouteTarget, type SpentUsage } from '@app/providers';
import { splitSpent } from './token-usage';

const target = (provider: string, model = 'm'): RouteTarget => ({ provider, model, weight: 1 });
const spent = (at: RouteTarget, prompt: number, status = 502): SpentUsage => ({
  target: at,
  usage: { prompt_tokens: prompt, completion_tokens: 1, total_tokens: prompt + 1 },
  error: new ProviderError('upstream_error', 'x', { provider: at.provider, reason: 'server', retryable: true, status }),
});
const tokens = (promptTokens: number, completionTokens: number) => ({
  promptTokens,
  completionTokens,
  cachedTokens: 0,
});

describe('splitSpent', () => {
  it("adds its own target's attempts to the request, and sums the others per provider and model", () => {
    const own = target('a');
    const split = splitSpent(tokens(5, 5), own, [
      spent(own, 10),
      spent(target('b'), 20, 500),
      spent(target('b', 'other'), 30),
      spent(target('b'), 40, 502),
    ]);
    expect(split.usage).toEqual(tokens(15, 6));
    expect(split.discarded).toEqual([
      { target: target('b'), usage: tokens(60, 2), status: 502, errorCode: 'upstream_error' },
      { target: target('b', 'other'), usage: tokens(30, 1), status: 502, errorCode: 'upstream_error' },
    ]);
  });

  it('keeps every attempt apart when the request has no target', () => {
    expect(splitSpent(tokens(0, 0), undefined, [spent(target('a'), 10)]).discarded).toHaveLength(1);
  });
});
