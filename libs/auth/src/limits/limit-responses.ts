import { GatewayError } from '@app/contracts';
import type { Limits } from '../principal';
import { budgetWindow } from './budget-period';
import type { ScopeLimits, ScopeUsage } from './rate-window';

/** A key or team the limiter checks. */
export interface Scope {
  kind: 'key' | 'team';
  id: string;
  /** `API key sk-…` or `team "name"`, for messages. */
  label: string;
  limits: Limits;
}

export function round(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

export function budgetExceeded(scope: Scope, spent: number, now: Date): GatewayError {
  const budget = scope.limits.budgetUsd ?? 0;
  const period = scope.limits.budgetPeriod;
  const { resetsAt } = budgetWindow(period, now);
  const when = resetsAt
    ? `it resets at ${resetsAt.toISOString()}`
    : 'a total budget does not reset: an admin can raise it';
  return new GatewayError(
    'budget_exceeded',
    `Budget exceeded: ${scope.label} has spent $${spent.toFixed(4)} of its $${budget.toFixed(2)} ${period} budget; ${when}.`,
    { retryAfter: resetsAt ? Math.ceil((resetsAt.getTime() - now.getTime()) / 1000) : undefined },
  );
}

/** The binding limit (least remaining) of each dimension, after counting `addRequests` / `addTokens`. */
export function rateHeaders(
  limits: ScopeLimits[],
  usage: ScopeUsage[],
  addRequests: number,
  addTokens: number,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const pick = (dimension: 'requests' | 'tokens', add: number) => {
    let best: { limit: number; remaining: number } | undefined;
    for (const [i, l] of limits.entries()) {
      const limit = dimension === 'requests' ? l.rpm : l.tpm;
      if (limit === undefined) continue;
      const remaining = Math.max(0, limit - (usage[i]?.[dimension] ?? 0) - add);
      if (!best || remaining < best.remaining) best = { limit, remaining };
    }
    if (best) {
      headers[`x-ratelimit-limit-${dimension}`] = String(best.limit);
      headers[`x-ratelimit-remaining-${dimension}`] = String(best.remaining);
    }
  };
  pick('requests', addRequests);
  pick('tokens', addTokens);
  return headers;
}
