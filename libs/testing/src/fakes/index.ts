export * from './fake-upstream';
export * from './fake-upstream.types';
export * from './fake-openai.server';
export * from './fake-anthropic.server';
export * from './fake-ollama.server';
export { formatSseEvent, type SseEvent } from './sse-writer';
export { countTokens, embedText, sampleFromSchema, type JsonValue } from './fake-content';
export { countInputTokens } from './fake-anthropic.responses';
