import type { ChatRequest } from '@app/contracts';
import { invalid } from './anthropic.content';
import type { AnthropicParams } from './anthropic.request';

/**
 * Anthropic request fields the chat format has no place for, sent as the client
 * gave them (an Anthropic SDK client on `/v1/messages`, or an OpenAI client adding
 * them to a chat request); Anthropic checks them. `mcp_servers` and
 * `context_management` are beta features: their beta goes in `betas`.
 */
const ANTHROPIC_FIELDS = [
  'thinking',
  'container',
  'mcp_servers',
  'context_management',
  'inference_geo',
  'speed',
  'diagnostics',
  // The top-level automatic-caching mark (block-level marks are kept on content parts).
  'cache_control',
] as const;

/** Anthropic's service tiers, and OpenAI's `default` (standard capacity only) in Anthropic's words. */
const SERVICE_TIERS: Readonly<Record<string, 'auto' | 'standard_only'>> = {
  auto: 'auto',
  standard_only: 'standard_only',
  default: 'standard_only',
};

/**
 * The Anthropic-only fields of the request, added to `params`; OpenAI's other
 * service tiers (`flex`, `scale`, `priority`) have no equivalent and are left out.
 */
export function addAnthropicFields(req: ChatRequest, params: AnthropicParams): void {
  const out = params as unknown as Record<string, unknown>;
  for (const field of ANTHROPIC_FIELDS) {
    const value = req[field];
    if (value !== undefined && value !== null) out[field] = value;
  }
  const tier = req.service_tier;
  if (typeof tier === 'string' && Object.hasOwn(SERVICE_TIERS, tier)) params.service_tier = SERVICE_TIERS[tier];
}

/** `betas` (the Anthropic SDK's name for the `anthropic-beta` header) as the header's value. */
export function betasOf(betas: unknown): string | undefined {
  if (betas === undefined || betas === null) return undefined;
  const list = typeof betas === 'string' ? [betas] : betas;
  if (!Array.isArray(list) || !list.every((beta) => typeof beta === 'string' && /^[\w.-]+$/.test(beta))) {
    throw invalid('betas', 'betas must be a list of Anthropic beta names');
  }
  return list.length ? list.join(',') : undefined;
}
