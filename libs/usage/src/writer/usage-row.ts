import { randomUUID } from 'node:crypto';
import type { UsageRow } from '@app/db';
import type { UsageEvent } from '../usage-event';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT_MAX = 2_147_483_647;
const MAX_TEXT = 256;

/**
 * The row for an event, with an event id of its own (the request id comes
 * from the client and may repeat), made safe to insert: ids that are not UUIDs become
 * null, counts are non-negative 32-bit integers, texts are bounded. A row the
 * database would refuse would otherwise hold up its whole batch.
 */
export function toUsageRow(event: UsageEvent, costUsd: number): UsageRow {
  const promptTokens = count(event.usage?.promptTokens);
  const startedAt =
    event.startedAt instanceof Date && !Number.isNaN(event.startedAt.getTime()) ? event.startedAt : new Date();
  return {
    eventId: randomUUID(),
    requestId: text(event.requestId) ?? 'unknown',
    createdAt: startedAt,
    teamId: uuid(event.teamId),
    apiKeyId: uuid(event.apiKeyId),
    agentId: text(event.agentId),
    sessionId: uuid(event.sessionId),
    userId: uuid(event.userId),
    endpoint: text(event.endpoint) ?? 'unknown',
    provider: text(event.provider),
    modelRequested: text(event.modelRequested) ?? '',
    modelServed: text(event.modelServed),
    routeAlias: text(event.routeAlias),
    promptTokens,
    // The row's total, their sum, is a 32-bit integer too.
    completionTokens: Math.min(count(event.usage?.completionTokens), INT_MAX - promptTokens),
    cachedTokens: count(event.usage?.cachedTokens),
    costUsd: Number.isFinite(costUsd) && costUsd > 0 ? costUsd : 0,
    latencyMs: count(event.latencyMs),
    ttftMs: event.ttftMs === null || event.ttftMs === undefined ? null : count(event.ttftMs),
    stream: Boolean(event.stream),
    status: Number.isInteger(event.status) && event.status >= 0 && event.status < 1000 ? event.status : 0,
    errorCode: text(event.errorCode),
    fallbackCount: count(event.fallbackCount),
    retryCount: count(event.retryCount),
    discarded: event.discarded === true,
  };
}

function uuid(value: string | null | undefined): string | null {
  return typeof value === 'string' && UUID.test(value) ? value : null;
}

function text(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  // NUL is the one character PostgreSQL text cannot hold.
  const clean = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  const bounded = clean.length > MAX_TEXT ? clean.slice(0, MAX_TEXT) : clean;
  // An unpaired surrogate (sent, or left by the cut) is no character: the batch's JSON would be refused.
  return bounded.isWellFormed() ? bounded : bounded.toWellFormed();
}

function count(value: number | null | undefined): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.round(value), INT_MAX);
}
