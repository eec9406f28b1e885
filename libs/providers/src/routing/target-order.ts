import type { LatencyTracker } from './latency-tracker';
import { type RoutePlan, type RouteTarget, targetKey } from './route-plan';

/**
 * Orders a plan's targets by its strategy: the first is tried first, the rest
 * are the fallback chain. Every strategy falls back through all targets.
 */
export class TargetOrder {
  private readonly cursors = new Map<string, number>();

  constructor(
    private readonly latency: LatencyTracker,
    private readonly random: () => number = Math.random,
  ) {}

  order(plan: RoutePlan): RouteTarget[] {
    const targets = plan.targets;
    if (targets.length <= 1) return targets;
    switch (plan.strategy) {
      case 'fallback':
        return targets;
      case 'round-robin':
        return this.rotate(plan.alias ?? plan.requested, targets);
      case 'weighted':
        return this.weightedShuffle(targets);
      case 'least-latency':
        return this.byLatency(targets);
    }
  }

  private rotate(key: string, targets: RouteTarget[]): RouteTarget[] {
    const start = (this.cursors.get(key) ?? 0) % targets.length;
    this.cursors.set(key, start + 1);
    return [...targets.slice(start), ...targets.slice(0, start)];
  }

  /** Weighted random order without replacement (Efraimidis–Spirakis keys). */
  private weightedShuffle(targets: RouteTarget[]): RouteTarget[] {
    return targets
      .map((target) => ({ target, key: Math.pow(this.random(), 1 / Math.max(target.weight, 1e-9)) }))
      .sort((a, b) => b.key - a.key)
      .map((entry) => entry.target);
  }

  /**
   * Fastest recent median first; targets never measured go first so they get
   * measured, and mostly failing ones (infinite median) last, in route order.
   */
  private byLatency(targets: RouteTarget[]): RouteTarget[] {
    return targets
      .map((target, index) => ({ target, index, p50: this.latency.p50(targetKey(target)) ?? -1 }))
      .sort((a, b) => a.p50 - b.p50 || a.index - b.index)
      .map((entry) => entry.target);
  }
}
