/** Tuning of the usage writer, the event stream and the status page. */
export interface UsageOptions {
  /** Rows per INSERT; a full batch is flushed at once instead of waiting for the timer. */
  batchSize: number;
  /** Longest time a row waits in memory before it is written (when the database is up). */
  flushIntervalMs: number;
  /** Rows kept in memory while the database is unreachable; beyond, rows are dropped, counted and logged. */
  maxQueue: number;
  /** Backoff between write attempts while the database fails (doubles from min to max). */
  retryMinMs: number;
  retryMaxMs: number;
  /** Readiness turns down when more rows than this wait to be written. */
  backlogReadyThreshold: number;
  /** How often prices are re-read from the database (edits also invalidate at once). */
  pricingRefreshMs: number;
  /** SSE: bytes a subscriber may leave unread before it is disconnected. */
  eventBufferBytes: number;
  /** SSE: comment line sent this often so proxies keep the connection open. */
  heartbeatMs: number;
  /** How long the status page reuses its session count. */
  statusCacheMs: number;
}

export const DEFAULT_USAGE_OPTIONS: UsageOptions = {
  batchSize: 500,
  flushIntervalMs: 1_000,
  maxQueue: 100_000,
  retryMinMs: 250,
  retryMaxMs: 5_000,
  backlogReadyThreshold: 20_000,
  pricingRefreshMs: 60_000,
  eventBufferBytes: 1024 * 1024,
  heartbeatMs: 15_000,
  statusCacheMs: 10_000,
};

/** Injection token of the live {@link UsageOptions} (read on every use, so tests may tune them). */
export const USAGE_OPTIONS = Symbol('USAGE_OPTIONS');
