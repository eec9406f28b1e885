import type { Usage } from '@app/contracts';

type Counts = Record<string, unknown>;

/** Adds the numeric fields of two token-detail objects; the others are taken from whichever has them. */
function addCounts<T extends object>(a: T | undefined, b: T | undefined): T | undefined {
  if (!a || !b) return a ?? b;
  const mine = Object.fromEntries<unknown>(Object.entries(a));
  const sum: Counts = { ...b, ...mine };
  for (const [key, value] of Object.entries(b)) {
    const own = mine[key];
    if (typeof value === 'number' && typeof own === 'number') sum[key] = own + value;
  }
  return sum as T;
}

/**
 * The tokens of two upstream calls made for one request (a reply and its repair):
 * every count added, the details too. Either may be missing; when both are, so is the sum.
 */
export function addUsage(a: Usage | null | undefined, b: Usage | null | undefined): Usage | undefined {
  if (!a || !b) return (a ?? b) || undefined;
  const sum: Usage = {
    ...b,
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
  const prompt = addCounts(a.prompt_tokens_details, b.prompt_tokens_details);
  const completion = addCounts(a.completion_tokens_details, b.completion_tokens_details);
  if (prompt) sum.prompt_tokens_details = prompt;
  if (completion) sum.completion_tokens_details = completion;
  return sum;
}
