export * from './provider.interface';
export { createProviderAdapter } from './provider.factory';
export {
  CLIENT_CLOSED_REQUEST,
  ProviderError,
  isClientAbort,
  isRetryable,
  normalizeProviderError,
  retryAfterMs,
  type ErrorContext,
  type ProviderErrorDetails,
  type UpstreamFailure,
} from './errors';
export { scrubSecrets, parseRetryAfterMs } from './shared/error-details';
export { OpenAICompatibleAdapter } from './openai/openai-compatible.adapter';
export {
  DEFAULT_AZURE_API_VERSION,
  DEFAULT_GEMINI_BASE_URL,
  DEFAULT_OLLAMA_HOST,
  DEFAULT_OPENAI_BASE_URL,
  type OpenAIFlavor,
} from './openai/openai-compatible.config';
export {
  AnthropicAdapter,
  DEFAULT_ANTHROPIC_API_VERSION,
  DEFAULT_ANTHROPIC_BASE_URL,
} from './anthropic/anthropic.adapter';
export {
  toAnthropicRequest,
  ANTHROPIC_SAMPLING_API_VERSION,
  type AnthropicRequestPlan,
} from './anthropic/anthropic.request';
export { fromAnthropicMessage, toOpenAIUsage, tokenCount } from './anthropic/anthropic.response';
export {
  AnthropicChunkMapper,
  anthropicStreamToChunks,
  startedUsage,
  withDeltaUsage,
  type AnthropicUsageState,
} from './anthropic/anthropic.stream';
export { MockAdapter, MOCK_MODELS } from './mock/mock.adapter';
export { sampleFromSchema } from './mock/json-from-schema';
export * from './routing';
export { plainText } from './anthropic/anthropic.content';
