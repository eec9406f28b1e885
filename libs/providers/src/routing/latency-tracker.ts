/** How long a target's samples are kept after its last call. */
export const SAMPLES_KEPT_MS = 60_000;

/**
 * Recent latencies per target (a ring of the last `size` samples), for least-latency
 * routing. A failure is a sample too, of infinite latency: a target that failed more
 * than half of its recent calls has an infinite median and sorts after every target
 * that answers, however fast it fails (a 404 in 2 ms is no answer). A target sorted
 * last gets no calls to mend its median: the samples of a target not called for
 * {@link SAMPLES_KEPT_MS} are forgotten, so it is measured afresh (tried first, once).
 */
export class LatencyTracker {
  private readonly samples = new Map<string, { values: number[]; next: number; at: number }>();

  constructor(
    private readonly size = 50,
    private readonly keptMs = SAMPLES_KEPT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  record(key: string, latencyMs: number): void {
    let ring = this.samples.get(key);
    if (!ring) {
      ring = { values: [], next: 0, at: 0 };
      this.samples.set(key, ring);
    }
    ring.at = this.now();
    if (ring.values.length < this.size) ring.values.push(latencyMs);
    else ring.values[ring.next] = latencyMs;
    ring.next = (ring.next + 1) % this.size;
  }

  /** The target failed (the router moved on from it): an infinitely slow sample. */
  recordFailure(key: string): void {
    this.record(key, Number.POSITIVE_INFINITY);
  }

  /** Forgets the samples of every model of `provider` (reconfigured or deleted). */
  forgetProvider(provider: string): void {
    const prefix = `${provider}/`;
    for (const key of this.samples.keys()) if (key.startsWith(prefix)) this.samples.delete(key);
  }

  /** Median of the recent samples; `undefined` before the first one, and once they are forgotten. */
  p50(key: string): number | undefined {
    const ring = this.samples.get(key);
    if (!ring?.values.length) return undefined;
    if (this.now() - ring.at > this.keptMs) {
      this.samples.delete(key);
      return undefined;
    }
    const sorted = [...ring.values].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }
}
