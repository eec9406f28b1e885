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

/**
 * One scope's window: a ring of the last 60 one-second buckets (slot `bucket %
 * 60`) and the running totals of those still in the window, so admitting a
 * request costs a few array reads however busy the scope is.
 */
class Window {
  private readonly ids = new Float64Array(WINDOW_BUCKETS).fill(-1);
  private readonly requests = new Float64Array(WINDOW_BUCKETS);
  private readonly tokens = new Float64Array(WINDOW_BUCKETS);
  private requestTotal = 0;
  private tokenTotal = 0;
  /** The newest bucket seen: slots older than its window have been cleared. */
  private newest = -1;

  /** Usage of the window ending with `bucket` (older buckets are dropped first). */
  usage(bucket: number): ScopeUsage {
    this.advance(bucket);
    return { requests: Math.max(0, this.requestTotal), tokens: Math.max(0, this.tokenTotal) };
  }

  add(bucket: number, requests: number, tokens: number): void {
    this.advance(bucket);
    const slot = bucket % WINDOW_BUCKETS;
    if (this.ids[slot] !== bucket) return;
    this.requests[slot] += requests;
    this.tokens[slot] += tokens;
    this.requestTotal += requests;
    this.tokenTotal += tokens;
  }

  /** Adds to an earlier bucket while it is still in the window. */
  adjust(bucket: number, tokens: number): void {
    const slot = bucket % WINDOW_BUCKETS;
    if (this.ids[slot] !== bucket) return;
    this.tokens[slot] += tokens;
    this.tokenTotal += tokens;
  }

  /** `[bucket, value]` of the live buckets, for retry-after. */
  buckets(dimension: 'requests' | 'tokens'): Array<[number, number]> {
    const values = dimension === 'requests' ? this.requests : this.tokens;
    const out: Array<[number, number]> = [];
    for (let slot = 0; slot < WINDOW_BUCKETS; slot++) if (this.ids[slot] >= 0) out.push([this.ids[slot], values[slot]]);
    return out;
  }

  private advance(bucket: number): void {
    if (bucket <= this.newest) return;
    const oldest = bucket - WINDOW_BUCKETS + 1;
    // Clear the slots whose bucket left the window (all of them after a minute of silence).
    for (let b = Math.max(this.newest + 1, oldest); b <= bucket; b++) this.reset(b % WINDOW_BUCKETS, b);
    this.newest = bucket;
  }

  private reset(slot: number, bucket: number): void {
    if (this.ids[slot] >= 0) {
      this.requestTotal -= this.requests[slot];
      this.tokenTotal -= this.tokens[slot];
    }
    this.ids[slot] = bucket;
    this.requests[slot] = 0;
    this.tokens[slot] = 0;
  }
}

/**
 * The windows of one process. Single-threaded, hence atomic. The most recently
 * used 100 000 scopes keep theirs; no time-to-live is needed on top, as a window
 * idle for a minute clears itself on its next use (and lru-cache's TTL, without
 * its costly auto-purge, frees nothing sooner anyway). A window is stored once,
 * when made: `get` alone keeps a busy scope's window the most recently used.
 */
export class MemoryRateWindowStore implements RateWindowStore {
  private readonly windows = new LRUCache<string, Window>({ max: 100_000 });

  async admit(scopes: ScopeLimits[], tokens: number, nowMs: number): Promise<AdmitOutcome> {
    return this.admitNow(scopes, tokens, nowMs);
  }

  /** `admit` without the promise, for the limiter's in-memory path. */
  admitNow(scopes: ScopeLimits[], tokens: number, nowMs: number): AdmitOutcome {
    const bucket = bucketOf(nowMs);
    const windows = scopes.map((s) => this.windowOf(s.scope));
    const usage = windows.map((w) => w.usage(bucket));
    for (let i = 0; i < scopes.length; i++) {
      const limits = scopes[i];
      if (limits.rpm !== undefined && usage[i].requests + 1 > limits.rpm) {
        const retry = retryAfterMs(windows[i].buckets('requests'), usage[i].requests + 1 - limits.rpm, nowMs);
        return { admitted: false, scopeIndex: i, dimension: 'requests', retryAfterMs: retry, usage };
      }
      if (limits.tpm !== undefined && usage[i].tokens + tokens > limits.tpm) {
        const retry = retryAfterMs(windows[i].buckets('tokens'), usage[i].tokens + tokens - limits.tpm, nowMs);
        return { admitted: false, scopeIndex: i, dimension: 'tokens', retryAfterMs: retry, usage };
      }
    }
    for (const window of windows) window.add(bucket, 1, tokens);
    return { admitted: true, bucket, usage };
  }

  private windowOf(scope: string): Window {
    let window = this.windows.get(scope);
    if (window === undefined) {
      window = new Window();
      this.windows.set(scope, window);
    }
    return window;
  }

  async adjustTokens(scopes: string[], bucket: number, delta: number, nowMs: number): Promise<void> {
    if (bucket < bucketOf(nowMs) - WINDOW_BUCKETS + 1) return;
    for (const scope of scopes) this.windows.get(scope)?.adjust(bucket, delta);
  }
}
