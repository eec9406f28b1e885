import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { type UsageRecordEntry, UsageRepository } from '@app/db';
import { type UsageEvent, UsageWriter } from '@app/usage';
import type { TestPlatform } from './platform';

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

/** The stored usage row of a request, once the gateway has reported it and its writer has written it. */
export async function storedUsageRow(platform: TestPlatform, requestId: string): Promise<UsageRecordEntry> {
  const usage = platform.gateway!.app.get(UsageRepository);
  const writer = platform.gateway!.app.get(UsageWriter);
  let row: UsageRecordEntry | null = null;
  await expect
    .poll(
      async () => {
        await writer.flush();
        row = await usage.findUsageRecordByRequestId(requestId);
        return row;
      },
      { timeout: 5_000, interval: 50 },
    )
    .not.toBeNull();
  return row!;
}

/**
 * Every stored usage row of a request (its own and those of answers it discarded), oldest first,
 * once `count` of them are written.
 */
export async function storedUsageRows(
  platform: TestPlatform,
  requestId: string,
  count: number,
): Promise<UsageRecordEntry[]> {
  const usage = platform.gateway!.app.get(UsageRepository);
  const writer = platform.gateway!.app.get(UsageWriter);
  const range = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) };
  let rows: UsageRecordEntry[] = [];
  await expect
    .poll(
      async () => {
        await writer.flush();
        rows = await usage.findUsageRecords({ ...range, requestId, limit: 100 });
        return rows.length;
      },
      { timeout: 5_000, interval: 50 },
    )
    .toBeGreaterThanOrEqual(count);
  return rows.reverse();
}
