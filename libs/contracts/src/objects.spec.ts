import { describe, expect, it } from 'vitest';
import { nestsDeeperThan, withFields } from './objects';

describe('withFields', () => {
  it('is the spread { ...base, ...extra }: a new object, extra winning, base untouched', () => {
    const base = { model: 'a', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const copy = withFields(base, { model: 'b', stream: false });
    expect(copy).toEqual({ ...base, ...{ model: 'b', stream: false } });
    expect(Object.keys(copy)).toEqual(['model', 'stream', 'messages']);
    expect(copy.messages).toBe(base.messages);
    expect(base).toEqual({ model: 'a', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(copy).not.toBe(base);
  });
});

describe('nestsDeeperThan', () => {
  const nested = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;

  it('counts objects and arrays, not scalars', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, 2)).toBe(true);
    expect(nestsDeeperThan([1, 'x', null, [2]], 1)).toBe(true);
  });

  it('answers at the limit on values far too deep to walk whole', () => {
    expect(nestsDeeperThan(nested(256), 256)).toBe(false);
    expect(nestsDeeperThan(nested(257), 256)).toBe(true);
    expect(nestsDeeperThan({ ok: 1, deep: nested(100_000) }, 256)).toBe(true);
  });
});
