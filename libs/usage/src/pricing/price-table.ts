import type { TokenUsage } from '../usage-event';

/** A price in USD per million tokens. */
export interface Price {
  provider: string;
  model: string;
  inputPerMTok: number;
  outputPerMTok: number;
  /** `null`: cached input costs the input price. */
  cachedInputPerMTok: number | null;
}

export const WILDCARD = '*';

const DATE_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/** Model names seen lately and their candidates: every request looks its models up two or three times. */
const candidatesOf = new Map<string, readonly string[]>();
/** Clients choose the requested name: the cache starts over rather than grow past this. */
const CANDIDATES_CACHED = 1_000;

/**
 * Names a provider may report for one priced model: the id itself, without a
 * `models/` or `vendor/` prefix, and without a release date or `-latest`
 * (`gpt-4o-2024-08-06` and `claude-3-5-haiku-latest` are priced as their family).
 */
export function modelCandidates(model: string): readonly string[] {
  let out = candidatesOf.get(model);
  if (out) return out;
  out = Object.freeze(candidatesFor(model));
  if (candidatesOf.size >= CANDIDATES_CACHED) candidatesOf.clear();
  candidatesOf.set(model, out);
  return out;
}

function candidatesFor(model: string): string[] {
  const out = [model];
  const add = (m: string) => {
    if (m && !out.includes(m)) out.push(m);
  };
  const bare = model.replace(/^models\//, '').replace(/^.*\//, '');
  add(bare);
  add(bare.replace(DATE_SUFFIX, ''));
  add(bare.replace(/-latest$/, ''));
  return out;
}

/** Cost in USD of one request, rounded to the 8 decimals the database keeps. */
export function costOf(price: Price, usage: TokenUsage): number {
  const cached = Math.min(Math.max(0, usage.cachedTokens), Math.max(0, usage.promptTokens));
  const uncached = Math.max(0, usage.promptTokens) - cached;
  const micro =
    uncached * price.inputPerMTok +
    cached * (price.cachedInputPerMTok ?? price.inputPerMTok) +
    Math.max(0, usage.completionTokens) * price.outputPerMTok;
  return Number((micro / 1_000_000).toFixed(8));
}

/** Kinds whose list prices are another's, when the list has no entry of their own: Azure's are OpenAI's. */
const PRICED_AS: Readonly<Record<string, string>> = { 'azure-openai': 'openai' };

/**
 * The price list in memory, with the lookup order every cost uses:
 * exact `provider/model` (by name, then by the provider's kind, then by the kind
 * whose prices it has: Azure's are OpenAI's), the provider's default `provider/*`,
 * any provider's `* /model`, then `* /*`.
 * Nothing found costs nothing (reported as unpriced).
 */
export class PriceTable {
  private readonly byKey = new Map<string, Price>();

  constructor(readonly prices: readonly Price[]) {
    for (const price of prices) this.byKey.set(`${price.provider}\u0000${price.model}`, price);
  }

  get size(): number {
    return this.prices.length;
  }

  resolve(provider: string, model: string, kind?: string): Price | undefined {
    const providers = kind && kind !== provider ? [provider, kind] : [provider];
    const sameAs = kind === undefined ? undefined : PRICED_AS[kind];
    if (sameAs !== undefined && sameAs !== provider) providers.push(sameAs);
    const models = modelCandidates(model);
    for (const p of providers) {
      for (const m of models) {
        const hit = this.get(p, m);
        if (hit) return hit;
      }
    }
    for (const p of providers) {
      const hit = this.get(p, WILDCARD);
      if (hit) return hit;
    }
    for (const m of models) {
      const hit = this.get(WILDCARD, m);
      if (hit) return hit;
    }
    return this.get(WILDCARD, WILDCARD);
  }

  private get(provider: string, model: string): Price | undefined {
    return this.byKey.get(`${provider}\u0000${model}`);
  }
}
