import { describe, expect, it } from 'vitest';
import { budgetExceeded } from './limit-responses';

describe('budgetExceeded', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const scope = (budgetUsd: number) => ({
    kind: 'key' as const,
    id: 'k',
    label: 'API key sk-x…',
    limits: { budgetUsd, budgetPeriod: 'total' as const },
  });

  it.each([
    [10, '$10.00'],
    [0.5, '$0.50'],
    [0.001, '$0.001'],
    [0.00012345, '$0.00012345'],
  ])('names a budget of %s as %s', (budget, shown) => {
    expect(budgetExceeded(scope(budget), budget, now).message).toContain(`of its ${shown} total budget`);
  });
});
