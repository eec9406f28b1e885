import { randomUUID } from 'node:crypto';
import type { UsageEvent } from '@app/usage';

/** A finished request as the pipeline reports it. */
export function usageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: randomUUID(),
    startedAt: new Date(),
    endpoint: 'chat',
    teamId: null,
    apiKeyId: null,
    provider: 'openai',
    modelRequested: 'gpt-4o',
    modelServed: 'gpt-4o-2024-08-06',
    usage: { promptTokens: 100, completionTokens: 20, cachedTokens: 0 },
    latencyMs: 250,
    ttftMs: null,
    stream: false,
    status: 200,
    errorCode: null,
    fallbackCount: 0,
    retryCount: 0,
    ...overrides,
  };
}
