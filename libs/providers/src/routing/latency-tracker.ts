/** How long a sample counts after it was taken. */
export const SAMPLES_KEPT_MS = 60_000;

interface Ring {
  values: number[];
  /** When each value was taken (epoch ms), index for index. */
  times: number[];
  next: number;
}

/**
 * Recent latencies per target (a ring of the last `size` samples, each counting for
 * {@link SAMPLES_KEPT_MS}), for least-latency routing. A failure is a sample too, of
 * infinite latency: a target that failed more than half of its recent calls has an
 * infinite median and sorts after every target that answers, however fast it fails
 * (a 404 in 2 ms is no answer). A target sorted last gets few calls to mend its
 * median, so old samples stop counting: one not called for a minute is measured
 * afresh (tried first, once), and one that only a fallback calls now and then is
 * ranked by those recent calls, not by how it did a minute ago.
 */
export class LatencyTracker {
  private readonly samples = new Map<string, Ring>();

  constructor(
    private readonly size = 50,
    private readonly keptMs = SAMPLES_KEPT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  record(key: string, latencyMs: number): void {
    let ring = this.samples.get(key);
    if (!ring) {
      ring = { values: [], times: [], next: 0 };
      this.samples.set(key, ring);
    }
    ring.values[ring.next] = latencyMs;
    ring.times[ring.next] = this.now();
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

  /** Median of the samples still counting; `undefined` before the first one, and once none counts. */
  p50(key: string): number | undefined {
    const ring = this.samples.get(key);
    if (!ring) return undefined;
    const since = this.now() - this.keptMs;
    const recent: number[] = [];
    for (let i = 0; i < ring.values.length; i++) if (ring.times[i] >= since) recent.push(ring.values[i]);
    if (recent.length === 0) {
      this.samples.delete(key);
      return undefined;
    }
    recent.sort((a, b) => a - b);
    return recent[Math.floor((recent.length - 1) / 2)];
  }
}
