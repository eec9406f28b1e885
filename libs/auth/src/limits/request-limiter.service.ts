import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { GatewayError, asError, outcomeWithin } from '@app/contracts';
import { SpendRepository, type SpendScope, databaseErrorReason, isDatabaseUnavailable } from '@app/db';
import { RedisConnections } from '@app/server';
import type { Limits, Principal } from '../principal';
import { budgetWindow, periodStartMs } from './budget-period';
import { type Scope, budgetExceeded, rateHeaders, round } from './limit-responses';
import { type AdmitOutcome, MemoryRateWindowStore, type RateWindowStore, type ScopeLimits } from './rate-window';
import { RedisRateWindowStore } from './redis-rate-window';
import { MemorySpendStore, RedisSpendStore, type SpendStore } from './spend-store';

/**
 * How long a reload of the usage log may take, when a spend last known can stand
 * in, before it does (the database being slow or silent).
 */
export const SPEND_RELOAD_WAIT_MS = 1_000;
/** After a reload failed or outlasted the wait, the spend last known stands in at once, without a query, for this long. */
export const SPEND_DEGRADED_MS = 5_000;

/** What `admit` hands back: headers for the response, and the call that reports the actual usage. */
export interface LimitTicket {
  /** `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`, `x-ratelimit-limit-tokens`, `x-ratelimit-remaining-tokens` (those that apply). */
  readonly headers: Record<string, string>;
  /**
   * Reports what the request really used, once it is over (streams too, and
   * failures with zeros): corrects the token window by actual - estimate and adds
   * the cost to the key's and team's budget spend. Calls after the first are ignored.
   */
  settle(actual: { totalTokens: number; costUsd: number }): void;
}

/** A budget's state, as `GET /v1/me` shows it. */
export interface BudgetStatus {
  budgetUsd: number;
  spentUsd: number;
  period: Limits['budgetPeriod'];
  resetsAt: Date | null;
}

function scopesOf(principal: Principal): Scope[] {
  const scopes: Scope[] = [];
  if (principal.apiKeyId && principal.keyLimits) {
    scopes.push({
      kind: 'key',
      id: principal.apiKeyId,
      label: `API key ${principal.label}`,
      limits: principal.keyLimits,
    });
  }
  if (principal.teamId && principal.teamLimits) {
    const name = principal.teamName ? `"${principal.teamName}"` : principal.teamId;
    scopes.push({ kind: 'team', id: principal.teamId, label: `team ${name}`, limits: principal.teamLimits });
  }
  return scopes;
}

/** A principal's limits, worked out for admission (see `planOf`). */
interface LimitPlan {
  scopes: Scope[];
  /** The scopes with a budget. */
  budgeted: Scope[];
  /** The scopes with an RPM or TPM limit, and their rate windows. */
  rated: Scope[];
  limits: ScopeLimits[];
  tpmScopes: string[];
  teamLimits: Limits | undefined;
}

const NO_OP_TICKET: LimitTicket = Object.freeze({ headers: {}, settle: () => undefined });

/**
 * Rate limits (RPM, TPM) and budgets per key and per team, checked before a
 * request goes upstream. In memory when the process is alone; in Redis (one
 * atomic Lua script per admission) when REDIS_URL is set, so replicas together
 * admit no more than the limit. Once warm, `admit` queries no database.
 */
@Injectable()
export class RequestLimiter {
  private readonly logger = new Logger(RequestLimiter.name);
  private readonly rates: RateWindowStore;
  private readonly spend: SpendStore;
  private readonly memoryRates = new MemoryRateWindowStore();
  private readonly memorySpend = new MemorySpendStore();
  private readonly loading = new Map<string, Promise<number>>();
  private readonly plans = new WeakMap<Limits, LimitPlan>();
  private lastRedisWarning = 0;
  private lastDatabaseWarning = 0;
  /** Until then (epoch ms) the usage log is taken as unreadable: the spend last known stands in without a query. */
  private degradedUntil = 0;
  /** How long a loaded spend counter is used before it is reloaded from the usage log (bounds drift). */
  private readonly reloadMs: number;

  constructor(
    private readonly redis: RedisConnections,
    private readonly spendLog: SpendRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.reloadMs = config.budgetSpendReloadMs;
    this.rates = redis.client ? new RedisRateWindowStore(redis.client) : this.memoryRates;
    this.spend = redis.client ? new RedisSpendStore(redis.client) : this.memorySpend;
  }

  /**
   * Admits a request of about `estimatedTokens` tokens (prompt + expected output) or throws.
   * @throws GatewayError 429 `budget_exceeded` (retry-after: the reset), 429 `rate_limit_exceeded` (retry-after and rate-limit headers)
   */
  async admit(principal: Principal, estimatedTokens: number): Promise<LimitTicket> {
    return this.admitNow(principal, estimatedTokens);
  }

  /**
   * {@link admit}, answered at once when everything it needs is in this process (no
   * Redis, budgets' spend loaded): the ticket is returned, a refusal thrown, and a
   * promise is made only when Redis or the database must be asked.
   */
  admitNow(principal: Principal, estimatedTokens: number): LimitTicket | Promise<LimitTicket> {
    const plan = this.planOf(principal);
    if (plan.scopes.length === 0) return NO_OP_TICKET;
    const now = Date.now();
    const tokens = Number.isFinite(estimatedTokens) ? Math.max(0, Math.ceil(estimatedTokens)) : 0;
    if (plan.budgeted.length === 0) return this.admitRates(plan, tokens, now, []);
    const budgetEntries = this.checkBudgets(plan.budgeted, now);
    return budgetEntries instanceof Promise
      ? budgetEntries.then((entries) => this.admitRates(plan, tokens, now, entries))
      : this.admitRates(plan, tokens, now, budgetEntries);
  }

  private admitRates(
    plan: LimitPlan,
    tokens: number,
    now: number,
    budgetEntries: string[],
  ): LimitTicket | Promise<LimitTicket> {
    if (plan.rated.length === 0) return this.ticket({}, [], 0, tokens, budgetEntries);
    this.rejectOversized(plan.rated, tokens);
    // Alone (no Redis), the windows are this process's: counted without a promise in between.
    if (this.rates === this.memoryRates) {
      return this.admitted(plan, tokens, budgetEntries, this.memoryRates.admitNow(plan.limits, tokens, now));
    }
    return this.withFallback(
      () => this.rates.admit(plan.limits, tokens, now),
      () => this.memoryRates.admit(plan.limits, tokens, now),
    ).then((outcome) => this.admitted(plan, tokens, budgetEntries, outcome));
  }

  private admitted(plan: LimitPlan, tokens: number, budgetEntries: string[], outcome: AdmitOutcome): LimitTicket {
    if (!outcome.admitted) throw this.rateLimited(plan.rated, plan.limits, outcome);
    const headers = rateHeaders(plan.limits, outcome.usage, 1, tokens);
    return this.ticket(headers, plan.tpmScopes, outcome.bucket, tokens, budgetEntries);
  }

  /**
   * What the limits of a principal come to (its scopes, those rate-limited, their
   * window names), worked out once per cached key: the key cache hands out
   * copies of one principal whose `keyLimits` object stays the same until the
   * key is loaded again, so it identifies the plan.
   */
  private planOf(principal: Principal): LimitPlan {
    const owner = principal.keyLimits ?? principal.teamLimits;
    const cached = owner && this.plans.get(owner);
    if (cached && cached.teamLimits === principal.teamLimits) return cached;
    const scopes = scopesOf(principal);
    const rated = scopes.filter((s) => s.limits.rpm !== undefined || s.limits.tpm !== undefined);
    const limits: ScopeLimits[] = rated.map((s) => ({
      scope: `${s.kind}:${s.id}`,
      rpm: s.limits.rpm,
      tpm: s.limits.tpm,
    }));
    const tpmScopes = limits.filter((l) => l.tpm !== undefined).map((l) => l.scope);
    const budgeted = scopes.filter((s) => s.limits.budgetUsd !== undefined);
    const plan = { scopes, budgeted, rated, limits, tpmScopes, teamLimits: principal.teamLimits };
    if (owner) this.plans.set(owner, plan);
    return plan;
  }

  /** The budgets that apply to the principal and what has been spent of them. */
  async budgetStatus(principal: Principal): Promise<{ key?: BudgetStatus; team?: BudgetStatus }> {
    const now = new Date();
    const status: { key?: BudgetStatus; team?: BudgetStatus } = {};
    for (const scope of scopesOf(principal)) {
      const budgetUsd = scope.limits.budgetUsd;
      if (budgetUsd === undefined) continue;
      const window = budgetWindow(scope.limits.budgetPeriod, now);
      const [spent] = await this.currentSpend([scope], [spendEntry(scope, now.getTime())], now.getTime());
      status[scope.kind] = {
        budgetUsd,
        spentUsd: round(spent),
        period: scope.limits.budgetPeriod,
        resetsAt: window.resetsAt,
      };
    }
    return status;
  }

  private ticket(
    headers: Record<string, string>,
    tpmScopes: string[],
    bucket: number,
    estimated: number,
    budgetEntries: string[],
  ): LimitTicket {
    let settled = false;
    return {
      headers,
      settle: (actual) => {
        if (settled) return;
        settled = true;
        const delta = Math.round(Math.max(0, actual.totalTokens || 0)) - estimated;
        if (tpmScopes.length > 0 && delta !== 0) {
          void this.withFallback(
            () => this.rates.adjustTokens(tpmScopes, bucket, delta, Date.now()),
            () => this.memoryRates.adjustTokens(tpmScopes, bucket, delta, Date.now()),
          ).catch((error: unknown) => this.logger.warn(`Could not correct token usage: ${(error as Error).message}`));
        }
        const cost = Number.isFinite(actual.costUsd) ? actual.costUsd : 0;
        if (cost > 0 && budgetEntries.length > 0) {
          void this.withFallback(
            () => this.spend.add(budgetEntries, cost),
            () => this.memorySpend.add(budgetEntries, cost),
          ).catch((error: unknown) => this.logger.warn(`Could not record spend: ${(error as Error).message}`));
        }
      },
    };
  }

  /** Throws when a budget is spent; returns the spend entries to charge on settle (at once when the spend is known here). */
  private checkBudgets(budgeted: Scope[], nowMs: number): string[] | Promise<string[]> {
    const entries = budgeted.map((s) => spendEntry(s, nowMs));
    const spent = this.currentSpend(budgeted, entries, nowMs);
    if (spent instanceof Promise) return spent.then((values) => this.withinBudgets(budgeted, entries, values, nowMs));
    return this.withinBudgets(budgeted, entries, spent, nowMs);
  }

  private withinBudgets(budgeted: Scope[], entries: string[], spent: number[], nowMs: number): string[] {
    for (let i = 0; i < budgeted.length; i++) {
      const scope = budgeted[i];
      const budget = scope.limits.budgetUsd ?? Infinity;
      if (spent[i] >= budget) throw budgetExceeded(scope, spent[i], new Date(nowMs));
    }
    return entries;
  }

  private currentSpend(scopes: Scope[], entries: string[], nowMs: number): number[] | Promise<number[]> {
    if (this.spend === this.memorySpend)
      return this.loadMissing(scopes, entries, this.memorySpend.getNow(entries), nowMs);
    return this.withFallback(
      () => this.spend.get(entries),
      () => this.memorySpend.get(entries),
    ).then((values) => this.loadMissing(scopes, entries, values, nowMs));
  }

  /** The spend of each scope: as known, or loaded for those not known yet. */
  private loadMissing(
    scopes: Scope[],
    entries: string[],
    values: Array<number | undefined>,
    nowMs: number,
  ): number[] | Promise<number[]> {
    if (values.every((value) => value !== undefined)) return values;
    return Promise.all(values.map(async (value, i) => value ?? this.load(scopes[i], entries[i], new Date(nowMs))));
  }

  /** First use of a scope in a period (per process, or per Redis): sum its usage records since the period start. */
  private load(scope: Scope, entry: string, now: Date): Promise<number> {
    let pending = this.loading.get(entry);
    if (!pending) {
      pending = this.loadSpend(scope, entry, now).finally(() => this.loading.delete(entry));
      this.loading.set(entry, pending);
    }
    return pending;
  }

  /**
   * The spend since the period start, from the usage log. While the database does
   * not answer (a failure, or no answer within {@link SPEND_RELOAD_WAIT_MS}), the spend
   * last known for the entry stands in, until the next reload is due (at most a
   * reload interval), and for {@link SPEND_DEGRADED_MS} after such a failure other
   * reloads do not ask; an entry never known (nor its previous period, see
   * {@link lastKnownSpend}) fails with the database's error (503).
   */
  private async loadSpend(scope: Scope, entry: string, now: Date): Promise<number> {
    const window = budgetWindow(scope.limits.budgetPeriod, now);
    const where: SpendScope = scope.kind === 'key' ? { apiKeyId: scope.id } : { teamId: scope.id };
    const ttl = Math.min(this.reloadMs, window.resetsAt ? window.resetsAt.getTime() - now.getTime() : this.reloadMs);
    const last = await this.lastKnownSpend(scope, entry, window.start);
    let spent: number;
    if (last === undefined) {
      spent = await this.spendLog.costSince(where, window.start);
      this.degradedUntil = 0;
    } else if (Date.now() < this.degradedUntil) {
      spent = last;
    } else {
      const read = await outcomeWithin(this.spendLog.costSince(where, window.start), SPEND_RELOAD_WAIT_MS);
      if (read.state === 'resolved') {
        spent = read.value;
        this.degradedUntil = 0;
      } else {
        if (read.state === 'rejected' && !isDatabaseUnavailable(read.error)) throw asError(read.error);
        this.degradedUntil = Date.now() + SPEND_DEGRADED_MS;
        this.warnDatabaseDown(
          read.state === 'late' ? `no answer within ${SPEND_RELOAD_WAIT_MS} ms` : databaseErrorReason(read.error),
        );
        spent = last;
      }
    }
    return this.withFallback(
      () => this.spend.initialize(entry, spent, ttl),
      () => this.memorySpend.initialize(entry, spent, ttl),
    );
  }

  /**
   * The spend last known for the entry. For a daily or monthly budget whose period
   * began since (the previous period's spend is known, within its hour): 0, as
   * nothing known to this store has been spent in the new period; so a period
   * that begins while the usage log cannot be read does not lock the budget out.
   */
  private async lastKnownSpend(scope: Scope, entry: string, periodStart: Date): Promise<number | undefined> {
    const lastKnown = (name: string) =>
      this.withFallback(
        () => this.spend.lastKnown(name),
        () => this.memorySpend.lastKnown(name),
      ).catch(() => undefined);
    const last = await lastKnown(entry);
    if (last !== undefined || scope.limits.budgetPeriod === 'total') return last;
    const previous = budgetWindow(scope.limits.budgetPeriod, new Date(periodStart.getTime() - 1)).start;
    return (await lastKnown(entryName(scope, previous.getTime()))) === undefined ? undefined : 0;
  }

  private rejectOversized(scopes: Scope[], tokens: number): void {
    for (const scope of scopes) {
      const tpm = scope.limits.tpm;
      if (tpm === undefined || tokens <= tpm) continue;
      throw new GatewayError(
        'rate_limit_exceeded',
        `Request too large for ${scope.label}: about ${tokens} tokens, more than its limit of ${tpm} tokens per minute. Send a smaller request (fewer messages or a lower max_tokens).`,
        {
          retryAfter: 60,
          headers: { 'x-ratelimit-limit-tokens': String(tpm), 'x-ratelimit-remaining-tokens': String(tpm) },
        },
      );
    }
  }

  private rateLimited(
    scopes: Scope[],
    limits: ScopeLimits[],
    outcome: Extract<AdmitOutcome, { admitted: false }>,
  ): GatewayError {
    const scope = scopes[outcome.scopeIndex];
    const limit = outcome.dimension === 'requests' ? `${scope.limits.rpm} requests` : `${scope.limits.tpm} tokens`;
    const retryAfter = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
    return new GatewayError(
      'rate_limit_exceeded',
      `Rate limit reached for ${scope.label}: ${limit} per minute. Retry in ${retryAfter} s.`,
      { retryAfter, headers: rateHeaders(limits, outcome.usage, 0, 0) },
    );
  }

  /**
   * Redis trouble must not take the gateway down, nor slow it: the process's own
   * counters stand in, with a warning, when a command fails, and at once while
   * Redis cannot answer (down, reconnecting, or timing out), so requests do not
   * each wait for a command to fail.
   */
  private withFallback<T>(primary: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    // Without Redis, the fallback is the store itself.
    return this.redis.sharedOr(primary, fallback, (reason) => this.warnRedisDown(reason));
  }

  private warnDatabaseDown(reason: string): void {
    if (Date.now() - this.lastDatabaseWarning < 60_000) return;
    this.lastDatabaseWarning = Date.now();
    this.logger.warn(`The usage log cannot be read (${reason}): budgets count from the spend last known`);
  }

  private warnRedisDown(reason: string): void {
    if (Date.now() - this.lastRedisWarning < 60_000) return;
    this.lastRedisWarning = Date.now();
    this.logger.warn(`Redis unavailable for rate limits and budgets, counting in this process only: ${reason}`);
  }
}

function spendEntry(scope: Scope, nowMs: number): string {
  return entryName(scope, periodStartMs(scope.limits.budgetPeriod, nowMs));
}

/** A scope's spend entry for the period starting at `startMs`: `key:<id>@<start ms>`. */
function entryName(scope: Scope, startMs: number): string {
  return `${scope.kind}:${scope.id}@${startMs}`;
}
