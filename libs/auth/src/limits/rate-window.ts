import { LRUCache } from 'lru-cache';

/**
 * Sliding window of 60 one-second buckets: a scope's usage is the sum of the
 * buckets of the last 60 seconds (the current one included), so no 60-second
 * span admits more than the limit (to one second's granularity) and there is
 * no burst at minute boundaries as with a fixed window.
 */
export const WINDOW_BUCKETS = 60;
export const BUCKET_MS = 1_000;

/** One rate-limited scope (a key or a team) and its limits; at least one is set. */
export interface ScopeLimits {
  /** `key:<id>` or `team:<id>`. */
  scope: string;
  rpm?: number;
  tpm?: number;
}

export interface ScopeUsage {
  requests: number;
  tokens: number;
}

export type AdmitOutcome =
  | { admitted: true; bucket: number; usage: ScopeUsage[] }
  | {
      admitted: false;
      scopeIndex: number;
      dimension: 'requests' | 'tokens';
      retryAfterMs: number;
      usage: ScopeUsage[];
    };

/**
 * Where the windows live: process memory, or Redis shared by replicas. `admit`
 * checks every scope and, only if all have room, counts the request in all of
 * them, atomically. `usage` is what each scope had used before this request.
 */
export interface RateWindowStore {
  admit(scopes: ScopeLimits[], tokens: number, nowMs: number): Promise<AdmitOutcome>;
  /** Corrects the tokens counted in `bucket` (estimate -> actual usage); a bucket out of the window is ignored. */
  adjustTokens(scopes: string[], bucket: number, delta: number, nowMs: number): Promise<void>;
}

export function bucketOf(nowMs: number): number {
  return Math.floor(nowMs / BUCKET_MS);
}

/** Milliseconds until the oldest buckets holding `needed` units leave the window. */
export function retryAfterMs(buckets: Array<[number, number]>, needed: number, nowMs: number): number {
  let freed = 0;
  for (const [bucket, value] of [...buckets].sort((a, b) => a[0] - b[0])) {
    freed += value;
    if (freed >= needed) return Math.max(1, (bucket + WINDOW_BUCKETS) * BUCKET_MS - nowMs);
  }
  return WINDOW_BUCKETS * BUCKET_MS;
}

type Window = { requests: Map<number, number>; tokens: Map<number, number> };

function sumLive(values: Map<number, number>, oldest: number): number {
  let sum = 0;
  for (const [bucket, value] of values) {
    if (bucket < oldest) values.delete(bucket);
    else sum += value;
  }
  return Math.max(0, sum);
}

/** The windows of one process. Single-threaded, hence atomic. */
export class MemoryRateWindowStore implements RateWindowStore {
  private readonly windows = new LRUCache<string, Window>({ max: 100_000, ttl: (WINDOW_BUCKETS + 1) * BUCKET_MS });

  async admit(scopes: ScopeLimits[], tokens: number, nowMs: number): Promise<AdmitOutcome> {
    const bucket = bucketOf(nowMs);
    const oldest = bucket - WINDOW_BUCKETS + 1;
    const windows = scopes.map(
      (s) => this.windows.get(s.scope) ?? { requests: new Map<number, number>(), tokens: new Map<number, number>() },
    );
    const usage = windows.map((w) => ({ requests: sumLive(w.requests, oldest), tokens: sumLive(w.tokens, oldest) }));
    for (const [i, limits] of scopes.entries()) {
      if (limits.rpm !== undefined && usage[i].requests + 1 > limits.rpm) {
        const retry = retryAfterMs([...windows[i].requests], usage[i].requests + 1 - limits.rpm, nowMs);
        return { admitted: false, scopeIndex: i, dimension: 'requests', retryAfterMs: retry, usage };
      }
      if (limits.tpm !== undefined && usage[i].tokens + tokens > limits.tpm) {
        const retry = retryAfterMs([...windows[i].tokens], usage[i].tokens + tokens - limits.tpm, nowMs);
        return { admitted: false, scopeIndex: i, dimension: 'tokens', retryAfterMs: retry, usage };
      }
    }
    for (const [i, limits] of scopes.entries()) {
      const w = windows[i];
      w.requests.set(bucket, (w.requests.get(bucket) ?? 0) + 1);
      w.tokens.set(bucket, (w.tokens.get(bucket) ?? 0) + tokens);
      this.windows.set(limits.scope, w);
    }
    return { admitted: true, bucket, usage };
  }

  async adjustTokens(scopes: string[], bucket: number, delta: number, nowMs: number): Promise<void> {
    if (bucket < bucketOf(nowMs) - WINDOW_BUCKETS + 1) return;
    for (const scope of scopes) {
      const w = this.windows.get(scope);
      if (w) w.tokens.set(bucket, (w.tokens.get(bucket) ?? 0) + delta);
    }
  }
}
