import type { Usage } from '@app/contracts';
import { type RouteTarget, type SpentUsage, toOpenAIUsage, tokenCount } from '@app/providers';
import type { TokenUsage } from '@app/usage';

export const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };

/** OpenAI's usage object in our terms. */
export function tokenUsage(usage: Usage | null | undefined): TokenUsage {
  if (!usage) return NO_USAGE;
  // Counts an upstream sent as something else (text, a fraction, a negative number) are none: estimated.
  return {
    promptTokens: tokenCount(usage.prompt_tokens),
    completionTokens: tokenCount(usage.completion_tokens),
    cachedTokens: tokenCount(usage.prompt_tokens_details?.cached_tokens),
  };
}

/**
 * The usage an upstream reported, or, when it reported none (no usage, or nothing
 * counted: no answer has a prompt of 0 tokens), the estimate: `prompt` tokens and
 * a token per 4 characters of output. A server that leaves usage out is billed
 * and limited on the estimate, not for nothing (streams and JSON alike).
 */
export function reportedOrEstimated(usage: TokenUsage, prompt: () => number, outputChars: () => number): TokenUsage {
  if (usage.promptTokens > 0 || usage.completionTokens > 0) return usage;
  return { promptTokens: prompt(), completionTokens: Math.ceil(outputChars() / 4), cachedTokens: 0 };
}

/**
 * An OpenAI-shaped answer as the client gets it: one whose upstream reported no usage
 * (OpenAI always does) is told the usage the gateway records, its estimate; one with
 * usage is itself.
 */
export function withUsageTold<T extends { usage?: Usage | null }>(answer: T, usage: TokenUsage): T {
  if (answer.usage) return answer;
  const told: Usage = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  return { ...answer, usage: told };
}

/**
 * Anthropic's usage object in our terms: every input token counts (fresh, cache
 * reads, cache writes), the cache reads as cached tokens, as for Anthropic's
 * answers on `/v1/chat/completions` (`toOpenAIUsage`).
 */
export function anthropicTokenUsage(usage: Parameters<typeof toOpenAIUsage>[0]): TokenUsage {
  return tokenUsage(toOpenAIUsage(usage));
}

function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
  };
}

/** Tokens a request consumed at one provider and model without using them, and why the last such answer failed. */
export interface DiscardedUsage {
  target: RouteTarget;
  usage: TokenUsage;
  status: number;
  errorCode: string;
}

/**
 * The tokens of a request's failed attempts (see `RouteOutcome.spent`), split by
 * where they were spent: those of the request's own target (`target`: the one that
 * answered, or failed last) are added to `usage`, the request's own; the others are
 * summed per provider and model, which may be priced differently.
 */
export function splitSpent(
  usage: TokenUsage,
  target: RouteTarget | undefined,
  spent: readonly SpentUsage[],
): { usage: TokenUsage; discarded: DiscardedUsage[] } {
  let own = usage;
  const discarded: DiscardedUsage[] = [];
  for (const attempt of spent) {
    const tokens = tokenUsage(attempt.usage);
    if (target && attempt.target.provider === target.provider && attempt.target.model === target.model) {
      own = addTokens(own, tokens);
      continue;
    }
    const { status, code } = attempt.error;
    const same = discarded.find(
      (d) => d.target.provider === attempt.target.provider && d.target.model === attempt.target.model,
    );
    if (same) Object.assign(same, { usage: addTokens(same.usage, tokens), status, errorCode: code });
    else discarded.push({ target: attempt.target, usage: tokens, status, errorCode: code });
  }
  return { usage: own, discarded };
}
