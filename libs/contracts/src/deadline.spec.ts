import { describe, expect, it } from 'vitest';
import { outcomeWithin, settlesWithin } from './deadline';

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

describe('outcomeWithin', () => {
  it('gives the value or the error of a promise that settles in time', async () => {
    expect(await outcomeWithin(Promise.resolve(7), 50)).toEqual({ state: 'resolved', value: 7 });
    const error = new Error('no');
    expect(await outcomeWithin(Promise.reject(error), 50)).toEqual({ state: 'rejected', error });
  });

  it('is late, after the time, for a promise still pending (whose later rejection is handled)', async () => {
    const started = Date.now();
    let reject: (error: Error) => void = () => undefined;
    const pending = new Promise<number>((_, r) => (reject = r));
    expect(await outcomeWithin(pending, 30)).toEqual({ state: 'late' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    reject(new Error('too late')); // no unhandled rejection
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
