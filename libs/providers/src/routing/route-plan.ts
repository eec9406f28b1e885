export type RouteStrategy = 'fallback' | 'round-robin' | 'weighted' | 'least-latency';

/** One place a request can go: a configured provider and its own model id. */
export interface RouteTarget {
  provider: string;
  model: string;
  weight: number;
  /** Bound on this target's answer (see CallContext.timeoutMs). */
  timeoutMs?: number;
}

/** Where a request may go, in the order the strategy chooses. */
export interface RoutePlan {
  /** The `model` the client asked for. */
  requested: string;
  /** The route alias, when the model named one. */
  alias: string | null;
  strategy: RouteStrategy;
  targets: RouteTarget[];
}

export const targetKey = (target: Pick<RouteTarget, 'provider' | 'model'>): string =>
  `${target.provider}/${target.model}`;
