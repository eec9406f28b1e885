import { describe, expect, it } from 'vitest';
import { settlesWithin } from './deadline';

describe('settlesWithin', () => {
  it('is true for a promise that resolves or rejects in time', async () => {
    expect(await settlesWithin(Promise.resolve(1), 50)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('no')), 50)).toBe(true);
  });

  it('is false, after the time, for a promise that never settles', async () => {
    const started = Date.now();
    expect(await settlesWithin(new Promise(() => undefined), 30)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
