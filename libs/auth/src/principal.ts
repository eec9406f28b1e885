/** Limits that apply to a key or a team; absent means unlimited. */
export interface Limits {
  rpm?: number;
  tpm?: number;
  budgetUsd?: number;
  budgetPeriod: 'total' | 'daily' | 'monthly';
}

/**
 * Who is calling, as established by a guard: the master key, a team's API key
 * (gateway), or a dashboard user (admin app). Attached to the request as
 * `req.principal` and read with `@CurrentPrincipal()`.
 */
export interface Principal {
  kind: 'master' | 'api_key' | 'user';
  /** `admin` can do everything; `member` is confined to its team. The master key is `admin`. */
  role: 'admin' | 'member';
  /** The team the caller acts for; `null` for the master key and team-less admins. */
  teamId: string | null;
  apiKeyId?: string;
  userId?: string;
  /** Display name for logs and audit: key prefix, user email, or "master". */
  label: string;
  /** Exact model names and `provider/*` patterns; empty allows every model (key and team lists intersected). */
  allowedModels: string[];
  /**
   * The lists a model must pass, each on its own (an API key's and its team's, the
   * empty ones left out); absent: `allowedModels` alone. Checked one by one, a route
   * alias the key names is allowed when the team allows every model behind it,
   * which intersecting the two lists as text cannot tell (see `ModelAccess`).
   */
  modelLists?: ReadonlyArray<readonly string[]>;
  keyLimits?: Limits;
  teamLimits?: Limits;
  /** The team's name, when the principal has a team (API keys). */
  teamName?: string;
  /** The key's own name and expiry (API keys). */
  keyName?: string;
  keyExpiresAt?: Date | null;
}

/** The principal of the master key: every right, no team, no limits. */
export const MASTER_PRINCIPAL: Readonly<Principal> = Object.freeze({
  kind: 'master',
  role: 'admin',
  teamId: null,
  label: 'master',
  allowedModels: [],
});
