import { describe, expect, it } from 'vitest';
import { stringForPattern, testPattern, type Work } from './sample-pattern';

/** Work without a limit, and work that counts. */
const free: Work = { spend: () => undefined };
function counted(limit: number): Work & { spent: number } {
  const work = {
    spent: 0,
    spend(units: number) {
      work.spent += units;
      if (work.spent > limit) throw new Error('out of work');
    },
  };
  return work;
}

describe('stringForPattern', () => {
  it.each<[string, number, number, string]>([
    ['^[A-Z]{3}-\\d{4}$', 0, 100, 'AAA-0000'],
    ['^(?<year>\\d{4})-(0[1-9]|1[0-2])$', 0, 100, '0000-01'],
    ['^[a-z]+$', 5, 100, 'aaaaa'],
    ['^(ab)+$', 3, 6, 'abab'],
    ['abc', 6, 10, 'abcxxx'],
    ['^\\p{Lu}\\p{Ll}+$', 0, 10, 'Aa'],
    ['^[^a-z]$', 0, 5, '0'],
    ['^[\\u4e00-\\u9fa5]{2}$', 0, 9, '一一'],
    ['^(a)\\1$', 0, 5, 'aa'],
    ['^(?!foo).*bar$', 0, 10, 'bar'],
  ])('%s (%i to %i characters): %j', (pattern, min, max, expected) => {
    const text = stringForPattern(pattern, min, max, 0, free);
    expect(text).toBe(expected);
    expect(new RegExp(pattern, 'u').test(expected)).toBe(true);
  });

  it.each<[string, number, number]>([
    ['^\\d{5}$', 0, 3],
    ['^.{3,}$', 0, 2],
    ['a{1000000000}|b{3}', 4, 10],
    ['(a?){1000000000}', 0, 5],
    ['^(?=x)y$', 0, 5],
  ])('finds nothing for %s in %i to %i characters, at once', (pattern, min, max) => {
    const started = performance.now();
    expect(stringForPattern(pattern, min, max, 0, free)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('gives distinct strings for distinct variants, lengthening when one character is not enough', () => {
    const texts = Array.from({ length: 60 }, (_, variant) => stringForPattern('^[a-z]+$', 0, 10, variant, free));
    expect(new Set(texts).size).toBe(60);
    expect(texts.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(texts.every((text) => text !== undefined && /^[a-z]+$/.test(text))).toBe(true);
  });

  it('stops a pattern that would write more than maxLength', () => {
    expect(stringForPattern('^x{100000}$', 0, 50, 0, free)).toBeUndefined();
    expect(stringForPattern('^x{100}$', 0, 200, 0, free)).toBe('x'.repeat(100));
  });

  it('never runs a pattern that repeats more than 100000 times, and counts the work of those it runs', () => {
    const started = performance.now();
    const work = counted(1_000_000);
    for (let i = 0; i < 100; i++) expect(testPattern(`(a?){1000000000}${i}`, 'xxxx', work)).toBe(false);
    expect(work.spent).toBe(0);
    expect(performance.now() - started).toBeLessThan(500);
    expect(testPattern('^(a?){5000}$', 'aaa', work)).toBe(true);
    // The pattern's length, its repetitions ({5000} and ?), the text's length.
    expect(work.spent).toBe('^(a?){5000}$'.length + 5001 + 3);
    expect(() => testPattern('^(a?){5000}$', 'aaa', counted(100))).toThrow('out of work');
  });
});
