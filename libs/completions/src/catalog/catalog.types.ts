import type { CircuitState, ProviderAdapter, ProviderKind, RoutePlan } from '@app/providers';

/** Where a provider's configuration comes from; environment ones are read-only in the admin API. */
export type ProviderSource = 'database' | 'environment';

/** A provider the gateway can call, with its adapter (built once, replaced when its configuration changes). */
export interface RegisteredProvider {
  /** Unique name: the `provider` of `provider/model`. */
  name: string;
  kind: ProviderKind;
  source: ProviderSource;
  /** The row id for database providers. */
  id?: string;
  adapter: ProviderAdapter;
  /** Models configured for it (discovery adds more, see ModelCatalog). */
  models: string[];
  /** Its default per-call timeout. */
  timeoutMs?: number;
  /** A disabled provider is listed (status, admin) but never routed to. */
  enabled: boolean;
}

/** A provider whose stored configuration cannot be used (undecryptable key, invalid setting). */
export interface ProviderProblem {
  name: string;
  kind: ProviderKind;
  source: ProviderSource;
  id?: string;
  message: string;
}

/** One model of the catalog, as `GET /v1/models` lists it. */
export interface CatalogModel {
  /** `provider/model`. */
  id: string;
  provider: string;
  /** The provider-local model id (may itself contain `/`). */
  model: string;
  ownedBy: string;
  /** Unix seconds. */
  created: number;
}

/**
 * What an agent lookup returns: at least the model the agent runs on. The agents
 * feature passes its whole agent through; the resolver only reads `model`.
 */
export interface AgentMatch {
  id: string;
  model: string;
  [extra: string]: unknown;
}

/** The hook through which agents join model resolution (registered by the agents feature). */
export interface AgentLookup {
  /** By id or name; synchronous (from memory): resolution is on the hot path. */
  find(idOrName: string): AgentMatch | undefined;
  /** Every agent, for `GET /v1/models` (a numeric `created`, in Unix seconds, is shown when present). */
  list?(): AgentMatch[];
}

/**
 * Where a request's `model` goes: the router's plan, plus the agent when the model
 * named one. Direct models are one target with strategy `fallback`.
 */
export interface ResolvedModel extends RoutePlan {
  agent: AgentMatch | null;
}

/** The last health check of a provider. */
export interface ProviderHealth {
  ok: boolean;
  latencyMs: number;
  message?: string;
  /** ISO timestamp. */
  checkedAt: string;
}

/** Reports the circuit state of a provider; plugged in by the router (`ProviderStatusService`). */
export type CircuitStateSource = (provider: string) => CircuitState | undefined;
