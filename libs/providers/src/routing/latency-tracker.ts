/** Recent latencies per target (a ring of the last `size` samples), for least-latency routing. */
export class LatencyTracker {
  private readonly samples = new Map<string, { values: number[]; next: number }>();

  constructor(private readonly size = 50) {}

  record(key: string, latencyMs: number): void {
    let ring = this.samples.get(key);
    if (!ring) {
      ring = { values: [], next: 0 };
      this.samples.set(key, ring);
    }
    if (ring.values.length < this.size) ring.values.push(latencyMs);
    else ring.values[ring.next] = latencyMs;
    ring.next = (ring.next + 1) % this.size;
  }

  /** Median of the recent samples; `undefined` before the first one. */
  p50(key: string): number | undefined {
    const ring = this.samples.get(key);
    if (!ring?.values.length) return undefined;
    const sorted = [...ring.values].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }
}
