import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import { MockAdapter } from './mock/mock.adapter';
import { OpenAICompatibleAdapter } from './openai/openai-compatible.adapter';
import type { ProviderAdapter, ProviderConfig } from './provider.interface';

/**
 * The adapter for a configured provider. Throws `GatewayError(invalid_request_error)`
 * naming the setting when the configuration cannot work (a missing `baseUrl`, say).
 */
export function createProviderAdapter(config: ProviderConfig): ProviderAdapter {
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
