import { describe, expect, it } from 'vitest';
import { BUCKET_MS, MemoryRateWindowStore, WINDOW_BUCKETS } from './rate-window';

const T0 = 1_700_000_000_000;
const key = { scope: 'key:a', rpm: 3, tpm: 100 };

describe('MemoryRateWindowStore', () => {
  it('counts requests and tokens over the last 60 one-second buckets, then lets them go', async () => {
    const store = new MemoryRateWindowStore();
    for (let i = 0; i < 3; i++) expect((await store.admit([key], 10, T0 + i * 20 * BUCKET_MS)).admitted).toBe(true);
    // Three requests within 40 s: the fourth, 59 s after the first, is over the RPM.
    const refused = await store.admit([key], 10, T0 + 59 * BUCKET_MS);
    expect(refused).toMatchObject({ admitted: false, dimension: 'requests', usage: [{ requests: 3, tokens: 30 }] });
    // The first request leaves the window 60 s after it, so retry-after is the rest of that minute.
    expect(refused.admitted === false && refused.retryAfterMs).toBe(BUCKET_MS);
    const admitted = await store.admit([key], 10, T0 + WINDOW_BUCKETS * BUCKET_MS);
    expect(admitted).toMatchObject({ admitted: true, usage: [{ requests: 2, tokens: 20 }] });
  });

  it('forgets everything after a minute of silence, and corrects tokens only while their bucket is live', async () => {
    const store = new MemoryRateWindowStore();
    const first = await store.admit([key], 90, T0);
    if (!first.admitted) throw new Error('the first request must be admitted');
    expect((await store.admit([key], 20, T0 + 1)).admitted).toBe(false);
    await store.adjustTokens([key.scope], first.bucket, -80, T0 + 2);
    expect(await store.admit([key], 20, T0 + 3)).toMatchObject({ admitted: true, usage: [{ tokens: 10 }] });
    // An hour later the window is empty; a correction for the old bucket changes nothing.
    const later = T0 + 3_600_000;
    await store.adjustTokens([key.scope], first.bucket, 500, later);
    expect(await store.admit([key], 100, later)).toMatchObject({ admitted: true, usage: [{ requests: 0, tokens: 0 }] });
  });

  it('admits a request into every scope or into none', async () => {
    const store = new MemoryRateWindowStore();
    const team = { scope: 'team:t', rpm: 1 };
    expect((await store.admit([key, team], 1, T0)).admitted).toBe(true);
    expect(await store.admit([key, team], 1, T0)).toMatchObject({ admitted: false, scopeIndex: 1 });
    // The refused request was not counted against the key.
    expect(await store.admit([key], 1, T0)).toMatchObject({ admitted: true, usage: [{ requests: 1 }] });
  });
});
