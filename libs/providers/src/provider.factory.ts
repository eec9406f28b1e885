import { GatewayError } from '@app/contracts';
import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import { MockAdapter } from './mock/mock.adapter';
import { OpenAICompatibleAdapter } from './openai/openai-compatible.adapter';
import type { ProviderAdapter, ProviderConfig, ProviderKind } from './provider.interface';

/** Kinds whose default endpoint is the vendor's own API, which refuses every call without a key. */
const KEYED_VENDORS: ReadonlySet<ProviderKind> = new Set(['openai', 'anthropic', 'gemini']);

/**
 * A provider of such a kind needs its key, unless another `baseUrl` (a proxy that may
 * hold the key) or configured headers (which may carry it) say otherwise.
 */
function assertCredentials(config: ProviderConfig): void {
  if (!KEYED_VENDORS.has(config.kind) || config.baseUrl || config.apiKey) return;
  if (Object.keys(config.options?.headers ?? {}).length > 0) return;
  throw new GatewayError(
    'invalid_request_error',
    `provider '${config.name}' (${config.kind}) needs apiKey: its API refuses calls without one`,
    { param: 'apiKey' },
  );
}

/**
 * The adapter for a configured provider. Throws `GatewayError(invalid_request_error)`
 * naming the setting when the configuration cannot work (a missing `baseUrl`, say).
 */
export function createProviderAdapter(config: ProviderConfig): ProviderAdapter {
  assertCredentials(config);
  switch (config.kind) {
    case 'openai':
    case 'openai-compatible':
    case 'gemini':
    case 'azure-openai':
    case 'ollama':
      return new OpenAICompatibleAdapter(config, config.kind);
    case 'anthropic':
      return new AnthropicAdapter(config);
    case 'mock':
      return new MockAdapter(config);
    default: {
      const unknownKind: never = config.kind;
      throw new Error(`unknown provider kind: ${String(unknownKind)}`);
    }
  }
}
