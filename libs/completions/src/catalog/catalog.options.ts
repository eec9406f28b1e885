/** Timings of the catalog's background work; tests shorten them with `overrideProvider`. */
export interface CatalogOptions {
  /** Safety-net reload of providers and routes from the database (changes are also pushed). */
  reloadIntervalMs: number;
  /** Re-discovery of every provider's models. */
  modelRefreshIntervalMs: number;
  /** Background health checks of enabled providers. */
  healthIntervalMs: number;
  /** Bound on one discovery or health call upstream. */
  upstreamTimeoutMs: number;
}

export const CATALOG_OPTIONS = Symbol('CATALOG_OPTIONS');

export const DEFAULT_CATALOG_OPTIONS: CatalogOptions = {
  reloadIntervalMs: 30_000,
  modelRefreshIntervalMs: 5 * 60_000,
  healthIntervalMs: 60_000,
  upstreamTimeoutMs: 10_000,
};
