import type { ModelCapabilityOverride, ProviderCapabilities } from '../provider.interface';

/** A provider's capabilities for one of its models. */
export type CapabilitiesOf = (model: string) => ProviderCapabilities;

type Flag = keyof ModelCapabilityOverride;
const FLAGS: ReadonlyArray<[flag: Flag, capability: 'tools' | 'jsonSchema']> = [
  ['nativeTools', 'tools'],
  ['nativeJsonSchema', 'jsonSchema'],
];

/** Resolved capabilities kept per model name, up to this many (names can come from clients). */
const CACHE_LIMIT = 1_000;

interface Pattern {
  source: string;
  regex: RegExp;
  /** Characters other than `*`: the more, the more specific. */
  literal: number;
  override: ModelCapabilityOverride;
}

function compile(source: string, override: ModelCapabilityOverride): Pattern {
  const body = source
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { source, regex: new RegExp(`^${body}$`, 's'), literal: source.replaceAll('*', '').length, override };
}

/**
 * The capabilities of each model of a provider: `base` (the provider's), with the
 * per-model overrides of `options.models` (keys are model names or globs where `*`
 * matches any run of characters). Each flag comes from the most specific entry that
 * sets it: the model's own name, then the pattern with the most characters besides
 * `*` (ties by the pattern's text), then the provider's. Compiled once per provider;
 * without overrides every model gets `base` itself, at no cost per request.
 */
export function capabilitiesByModel(
  base: ProviderCapabilities,
  overrides: Readonly<Record<string, ModelCapabilityOverride>> | undefined,
): CapabilitiesOf {
  const entries = Object.entries(overrides ?? {});
  if (entries.length === 0) return () => base;
  const exact = new Map(entries.filter(([key]) => !key.includes('*')));
  const patterns = entries
    .filter(([key]) => key.includes('*'))
    .map(([key, override]) => compile(key, override))
    .sort((a, b) => b.literal - a.literal || (a.source < b.source ? -1 : 1));
  const cache = new Map<string, ProviderCapabilities>();
  return (model) => {
    let resolved = cache.get(model);
    if (resolved) return resolved;
    resolved = resolve(base, model, exact.get(model), patterns);
    if (cache.size < CACHE_LIMIT) cache.set(model, resolved);
    return resolved;
  };
}

function resolve(
  base: ProviderCapabilities,
  model: string,
  own: ModelCapabilityOverride | undefined,
  patterns: readonly Pattern[],
): ProviderCapabilities {
  const matching = patterns.filter((pattern) => pattern.regex.test(model)).map((pattern) => pattern.override);
  const entries = own ? [own, ...matching] : matching;
  if (entries.length === 0) return base;
  const resolved = { ...base };
  for (const [flag, capability] of FLAGS) {
    const value = entries.find((entry) => entry[flag] !== undefined)?.[flag];
    if (value !== undefined) resolved[capability] = value;
  }
  return resolved;
}
