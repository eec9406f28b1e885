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

/** An amount as set: cents, or every digit of one under a cent ($0.001, not $0.00). */
function dollars(usd: number): string {
  return usd === 0 || usd >= 0.01 ? usd.toFixed(2) : String(round(usd));
}

export function budgetExceeded(scope: Scope, spent: number, now: Date): GatewayError {
  const budget = scope.limits.budgetUsd ?? 0;
  const period = scope.limits.budgetPeriod;
  const { resetsAt } = budgetWindow(period, now);
  // A team's limits can be changed (PATCH /api/teams/:id); a key's are fixed at its creation.
  const raise = scope.kind === 'team' ? 'an admin can raise it' : 'a key with a larger budget can be issued';
  const when = resetsAt ? `it resets at ${resetsAt.toISOString()}` : `a total budget does not reset: ${raise}`;
  return new GatewayError(
    'budget_exceeded',
    `Budget exceeded: ${scope.label} has spent $${spent.toFixed(4)} of its $${dollars(budget)} ${period} budget; ${when}.`,
    { retryAfter: resetsAt ? Math.ceil((resetsAt.getTime() - now.getTime()) / 1000) : undefined },
  );
}

const RATE_HEADERS = {
  requests: { limit: 'x-ratelimit-limit-requests', remaining: 'x-ratelimit-remaining-requests' },
  tokens: { limit: 'x-ratelimit-limit-tokens', remaining: 'x-ratelimit-remaining-tokens' },
} as const;

/** The binding limit (least remaining) of each dimension, after counting `addRequests` / `addTokens`. */
export function rateHeaders(
  limits: ScopeLimits[],
  usage: ScopeUsage[],
  addRequests: number,
  addTokens: number,
): Record<string, string> {
  const headers: Record<string, string> = {};
  // Constant header names and a plain loop: this runs for every admitted request.
  const pick = (dimension: 'requests' | 'tokens', add: number) => {
    let found = false;
    let bestLimit = 0;
    let bestRemaining = 0;
    for (let i = 0; i < limits.length; i++) {
      const limit = dimension === 'requests' ? limits[i].rpm : limits[i].tpm;
      if (limit === undefined) continue;
      const remaining = Math.max(0, limit - (usage[i]?.[dimension] ?? 0) - add);
      if (!found || remaining < bestRemaining) {
        found = true;
        bestLimit = limit;
        bestRemaining = remaining;
      }
    }
    if (found) {
      headers[RATE_HEADERS[dimension].limit] = String(bestLimit);
      headers[RATE_HEADERS[dimension].remaining] = String(bestRemaining);
    }
  };
  pick('requests', addRequests);
  pick('tokens', addTokens);
  return headers;
}
