import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { GatewayError, asError, outcomeWithin } from '@app/contracts';
import { ApiKeyRepository, type ApiKeyWithTeam, databaseErrorReason, isDatabaseUnavailable } from '@app/db';
import { type Limits, MASTER_PRINCIPAL, type Principal } from '../principal';
import { MAX_KEY_LENGTH, isWellFormedApiKey, sha256 } from './api-key-format';
import { type KeyInvalidation, KeyInvalidationBus } from './key-invalidation';
import { LastUsedTracker } from './last-used.tracker';
import { ModelAccess } from './model-access';

/** How long an unknown key hash is remembered as unknown (a key created since is found after this). */
export const UNKNOWN_KEY_TTL_MS = 5_000;
export const KEY_CACHE_MAX = 10_000;
/**
 * How long past its TTL a verified key may still be trusted while the database
 * does not answer (stale-if-error): a database outage does not turn away the
 * clients it finds known.
 */
export const KEY_STALE_IF_ERROR_MS = 60 * 60_000;
/** How long a request waits for its stale key's reload before it is served from the stale entry. */
export const KEY_RELOAD_WAIT_MS = 1_000;
/** After a reload failed or outlasted the wait, stale keys are served at once, without a query, for this long. */
export const KEY_DEGRADED_MS = 5_000;

type CachedKey =
  | {
      found: true;
      principal: Principal;
      keyId: string;
      teamId: string;
      revokedAt: Date | null;
      expiresAt: Date | null;
      /** Until then (epoch ms) the entry is used without asking the database. */
      freshUntil: number;
      /** Until then it may stand in for a reload the database does not answer. */
      trustedUntil: number;
    }
  | { found: false; freshUntil: number };
type VerifiedKey = Extract<CachedKey, { found: true }>;

function limitsOf(source: {
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetUsd: number | null;
  budgetPeriod: Limits['budgetPeriod'];
}): Limits {
  return {
    rpm: source.rpmLimit ?? undefined,
    tpm: source.tpmLimit ?? undefined,
    budgetUsd: source.budgetUsd ?? undefined,
    budgetPeriod: source.budgetPeriod,
  };
}

function toPrincipal({ key, team }: ApiKeyWithTeam): Principal {
  return {
    kind: 'api_key',
    role: 'member',
    teamId: team.id,
    apiKeyId: key.id,
    label: key.prefix,
    allowedModels: ModelAccess.intersect(key.allowedModels, team.allowedModels),
    modelLists: [key.allowedModels, team.allowedModels].filter((list) => list.length > 0),
    keyLimits: limitsOf(key),
    teamLimits: limitsOf(team),
    teamName: team.name,
    keyName: key.name,
    keyExpiresAt: key.expiresAt,
  };
}

const invalid = (message: string) => new GatewayError('invalid_api_key', message);

/**
 * Turns the key a client sent into a {@link Principal}. Verified keys (and, for
 * a few seconds, unknown ones) are cached in a bounded LRU so a warm key costs
 * no database query; revocation drops them through {@link KeyInvalidationBus}.
 * When a verified key's reload finds the database unreachable or silent, the key
 * is served as last verified (its revocation and expiry still apply) and asked for
 * again a TTL later, for up to {@link KEY_STALE_IF_ERROR_MS}; an unknown key then
 * gets `503 database_unavailable`.
 */
@Injectable()
export class ApiKeyAuthService implements OnModuleDestroy {
  /**
   * Without lru-cache's TTL (each entry knows until when it is fresh, `KEY_CACHE_TTL_MS`
   * after it was loaded): an entry past it is kept, to stand in while the database does not answer.
   */
  private readonly cache = new LRUCache<string, CachedKey>({ max: KEY_CACHE_MAX });
  private readonly inflight = new Map<string, Promise<CachedKey>>();
  private readonly ttlMs: number;
  /** Until then (epoch ms) the database is taken as down or slow: stale keys are served without waiting. */
  private degradedUntil = 0;
  private degradedWarnedAt = 0;
  private readonly logger = new Logger(ApiKeyAuthService.name);
  /** Bumped by every invalidation; a lookup that raced one is not cached. */
  private generation = 0;
  private readonly unsubscribe: () => void;
  private readonly masterDigest: Buffer | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: ApiKeyRepository,
    private readonly lastUsed: LastUsedTracker,
    invalidations: KeyInvalidationBus,
  ) {
    this.unsubscribe = invalidations.subscribe((event) => this.invalidate(event));
    this.masterDigest = config.masterKey === undefined ? undefined : sha256(config.masterKey);
    this.ttlMs = config.keyCacheTtlMs;
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /**
   * @param presented the key from `Authorization: Bearer` or `x-api-key`, if any
   * @throws GatewayError 401 `invalid_api_key` (missing, unknown, revoked, expired); 503
   *   `database_unavailable` (a key the cache cannot vouch for while the database does not answer)
   */
  async authenticate(presented: string | undefined): Promise<Principal> {
    return this.authenticateNow(presented);
  }

  /**
   * {@link authenticate}, answered at once when no database is needed (the master key,
   * a cached key, a malformed one: the principal is returned, the error thrown), and
   * with a promise only when the key must be loaded. The hot path then spends no
   * promise or event-loop turn on a cached key.
   */
  authenticateNow(presented: string | undefined): Principal | Promise<Principal> {
    if (presented === undefined || presented === '') {
      throw invalid('Missing API key: send it as `Authorization: Bearer <key>` or in the `x-api-key` header.');
    }
    // One SHA-256 of the presented key serves both the constant-time master check and the lookup.
    const digest = sha256(presented);
    if (this.masterDigest && timingSafeEqual(digest, this.masterDigest)) return { ...MASTER_PRINCIPAL };
    if (presented.length > MAX_KEY_LENGTH || !isWellFormedApiKey(presented)) throw invalid('Invalid API key.');
    const hash = digest.toString('hex');
    const cached = this.cache.get(hash);
    if (cached !== undefined && cached.freshUntil > Date.now()) return this.principalOf(cached);
    return this.reload(hash, cached).then((entry) => this.principalOf(entry));
  }

  /** The principal of a looked-up key, or why it is refused. */
  private principalOf(entry: CachedKey): Principal {
    if (!entry.found) throw invalid('Invalid API key.');
    if (entry.revokedAt)
      throw invalid(`This API key (${entry.principal.label}) was revoked on ${entry.revokedAt.toISOString()}.`);
    if (entry.expiresAt && entry.expiresAt.getTime() <= Date.now()) {
      throw invalid(`This API key (${entry.principal.label}) expired on ${entry.expiresAt.toISOString()}.`);
    }
    this.lastUsed.mark(entry.keyId);
    return { ...entry.principal };
  }

  invalidate(event: KeyInvalidation): void {
    this.generation++;
    if ('all' in event) {
      this.cache.clear();
      return;
    }
    for (const [hash, entry] of this.cache.entries()) {
      if (!entry.found) continue;
      if ('keyId' in event ? entry.keyId === event.keyId : entry.teamId === event.teamId) this.cache.delete(hash);
    }
  }

  /**
   * A key not fresh in the cache, from the database; or, for a verified key whose
   * reload the database does not answer (a failure, or no answer within
   * {@link KEY_RELOAD_WAIT_MS}), the entry last verified, while it may be trusted.
   */
  private reload(hash: string, cached: CachedKey | undefined): Promise<CachedKey> {
    const stale = cached?.found && cached.trustedUntil > Date.now() ? cached : undefined;
    if (!stale) return this.load(hash);
    // A known outage: no query (and no wait) until it is time to try the database again.
    if (Date.now() < this.degradedUntil) return Promise.resolve(this.standIn(hash, stale));
    return outcomeWithin(this.load(hash), KEY_RELOAD_WAIT_MS).then((outcome) => {
      if (outcome.state === 'resolved') return outcome.value;
      if (outcome.state === 'rejected' && !isDatabaseUnavailable(outcome.error)) throw asError(outcome.error);
      this.degraded(
        outcome.state === 'late' ? `no answer within ${KEY_RELOAD_WAIT_MS} ms` : databaseErrorReason(outcome.error),
      );
      return this.standIn(hash, stale);
    });
  }

  /**
   * The entry last verified, standing in for a reload the database did not answer:
   * it is not asked for again for a TTL (unless it was replaced or dropped since).
   */
  private standIn(hash: string, stale: VerifiedKey): VerifiedKey {
    if (this.cache.get(hash) === stale) this.cache.set(hash, { ...stale, freshUntil: Date.now() + this.ttlMs });
    return stale;
  }

  private degraded(reason: string): void {
    this.degradedUntil = Date.now() + KEY_DEGRADED_MS;
    if (Date.now() - this.degradedWarnedAt < 60_000) return;
    this.degradedWarnedAt = Date.now();
    this.logger.warn(`The database does not answer key lookups (${reason}): serving keys as last verified`);
  }

  /** One database lookup per uncached key at a time, however many requests present it. */
  private load(hash: string): Promise<CachedKey> {
    let pending = this.inflight.get(hash);
    if (!pending) {
      pending = this.query(hash).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, pending);
    }
    return pending;
  }

  private async query(hash: string): Promise<CachedKey> {
    const generation = this.generation;
    const row = await this.keys.findByHashWithTeam(hash);
    const now = Date.now();
    this.degradedUntil = 0;
    const entry: CachedKey = row
      ? {
          found: true,
          principal: toPrincipal(row),
          keyId: row.key.id,
          teamId: row.team.id,
          revokedAt: row.key.revokedAt,
          expiresAt: row.key.expiresAt,
          freshUntil: now + this.ttlMs,
          trustedUntil: now + this.ttlMs + KEY_STALE_IF_ERROR_MS,
        }
      : { found: false, freshUntil: now + Math.min(UNKNOWN_KEY_TTL_MS, this.ttlMs) };
    if (generation === this.generation) this.cache.set(hash, entry);
    return entry;
  }
}
