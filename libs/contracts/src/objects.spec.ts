import { describe, expect, it } from 'vitest';
import { withFields } from './objects';

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
