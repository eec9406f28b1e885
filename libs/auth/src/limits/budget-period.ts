import type { Limits } from '../principal';

export interface BudgetWindow {
  /** Spend counts from here (UTC). The epoch for a total budget. */
  start: Date;
  /** When the budget starts afresh; `null` for a total budget, which never resets. */
  resetsAt: Date | null;
}

/** The current period of a budget, in UTC: days start at midnight, months on the 1st. */
export function budgetWindow(period: Limits['budgetPeriod'], now = new Date()): BudgetWindow {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (period) {
    case 'daily':
      return { start: new Date(Date.UTC(y, m, d)), resetsAt: new Date(Date.UTC(y, m, d + 1)) };
    case 'monthly':
      return { start: new Date(Date.UTC(y, m, 1)), resetsAt: new Date(Date.UTC(y, m + 1, 1)) };
    case 'total':
      return { start: new Date(0), resetsAt: null };
  }
}

const periodStarts = new Map<Limits['budgetPeriod'], { startMs: number; untilMs: number }>();

/**
 * `budgetWindow(period, now).start` in ms, without building the window: the
 * start of the current period is remembered until the period ends (every
 * request with a budget asks).
 */
export function periodStartMs(period: Limits['budgetPeriod'], nowMs: number): number {
  const cached = periodStarts.get(period);
  if (cached && nowMs >= cached.startMs && nowMs < cached.untilMs) return cached.startMs;
  const window = budgetWindow(period, new Date(nowMs));
  const entry = { startMs: window.start.getTime(), untilMs: window.resetsAt?.getTime() ?? Infinity };
  periodStarts.set(period, entry);
  return entry.startMs;
}
