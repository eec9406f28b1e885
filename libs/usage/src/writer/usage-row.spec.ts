import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../usage-event';
import { toUsageRow } from './usage-row';

const event = (overrides: Partial<UsageEvent> = {}): UsageEvent => ({
  requestId: 'req-1',
  startedAt: new Date('2026-01-02T03:04:05.678Z'),
  endpoint: 'chat',
  teamId: '6f1c1a0e-1111-4b4b-9c9c-123456789abc',
  apiKeyId: null,
  provider: 'openai',
  modelRequested: 'gpt-4o',
  modelServed: 'gpt-4o-2024-08-06',
  usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 0 },
  latencyMs: 123.6,
  stream: false,
  status: 200,
  fallbackCount: 0,
  retryCount: 0,
  ...overrides,
});

describe('toUsageRow', () => {
  it('keeps a well-formed event as it is (latency rounded)', () => {
    expect(toUsageRow(event(), 0.5)).toMatchObject({
      requestId: 'req-1',
      teamId: '6f1c1a0e-1111-4b4b-9c9c-123456789abc',
      modelServed: 'gpt-4o-2024-08-06',
      promptTokens: 10,
      costUsd: 0.5,
      latencyMs: 124,
      ttftMs: null,
      agentId: null,
    });
  });

  it.each([
    [
      'an id that is not a UUID becomes null',
      { teamId: 'team-1', sessionId: 'abc' },
      { teamId: null, sessionId: null },
    ],
    [
      'negative, fractional and huge counts are clamped',
      { usage: { promptTokens: -3, completionTokens: 1e12, cachedTokens: Number.NaN } },
      { promptTokens: 0, completionTokens: 2_147_483_647, cachedTokens: 0 },
    ],
    [
      'counts are clamped so that their sum, the total, is a 32-bit integer too',
      { usage: { promptTokens: 2e9, completionTokens: 2e9, cachedTokens: 0 } },
      { promptTokens: 2e9, completionTokens: 147_483_647 },
    ],
    ['an impossible status becomes 0', { status: 1234 }, { status: 0 }],
    [
      'an unpaired surrogate becomes U+FFFD, and a cut never leaves half a pair',
      { modelServed: 'served\ud800', modelRequested: `${'x'.repeat(255)}\u{1f600}` },
      { modelServed: 'served\ufffd', modelRequested: `${'x'.repeat(255)}\ufffd` },
    ],
    [
      'NUL characters are removed and long texts cut',
      { modelRequested: `a\u0000b${'x'.repeat(500)}` },
      { modelRequested: `ab${'x'.repeat(254)}` },
    ],
    ['an invalid start time becomes now', { startedAt: new Date('nope') }, {}],
    ['an empty model served is null', { modelServed: '' }, { modelServed: null }],
  ])('%s', (_name, overrides, expected) => {
    const row = toUsageRow(event(overrides), 0);
    expect(row).toMatchObject(expected);
    expect(Number.isNaN(row.createdAt.getTime())).toBe(false);
  });

  it('never stores a negative or non-finite cost', () => {
    expect(toUsageRow(event(), -1).costUsd).toBe(0);
    expect(toUsageRow(event(), Number.POSITIVE_INFINITY).costUsd).toBe(0);
  });
});
