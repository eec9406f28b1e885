import { RE2JS } from 're2js';
import { type RootNode, parse } from 'regjsparser';
import { describe, expect, it } from 'vitest';
import {
  MAX_KEPT_DFA_BYTES,
  MAX_LINEAR_INPUT_CHARS,
  MAX_LINEAR_WORK,
  MAX_PATTERN_INPUT_CHARS,
  PatternInputTooLong,
  compilePattern,
  trimDfa,
} from './pattern-engine';
import { EXPONENTIAL_PATTERNS, FORMERLY_REFUSED, REAL_PATTERNS } from './schema-patterns.fixtures';

type Features = { namedGroups: true; unicodePropertyEscape: true; lookbehind: true };
const FEATURES: Features = { namedGroups: true, unicodePropertyEscape: true, lookbehind: true };

/** Characters JavaScript and RE2 could read differently: spaces, line terminators, non-ASCII look-alikes, astral and lone surrogates. */
const TRICKY = [
  ...'\t\n\v\f\r \u0085\u00a0\u1680\u180e\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff',
  ...'éßµΩ€٣\u212a\u017f\u0130\u0131_-./\\@:#0 9aAzZ\0\b',
  '\u{1F600}',
  '\u{1D7D8}',
  '\u{10FFFF}',
  '\uD83D',
  '\uDE00',
];
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
const CANDIDATES = [...new Set([...PRINTABLE, ...TRICKY])];

/** A seeded PRNG (mulberry32): the same texts on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const singles = new Map<string, string[]>();
/** The candidates one character class (`.`, `\s`, `[^a-z]`, `\p{L}`...) matches, as V8 reads it. */
function charactersOf(raw: string): string[] {
  let found = singles.get(raw);
  if (!found) {
    const regExp = new RegExp(`^(?:${raw})$`, 'u');
    found = CANDIDATES.filter((char) => regExp.test(char));
    singles.set(raw, found);
  }
  return found;
}

/** A text the pattern is likely to match: each choice and repeat count picked at random (lookarounds left out). */
function sample(node: RootNode<Features>, next: () => number): string {
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(next() * items.length)];
  switch (node.type) {
    case 'alternative':
      return node.body.map((item) => sample(item, next)).join('');
    case 'disjunction':
      return sample(pick(node.body)!, next);
    case 'value':
      return String.fromCodePoint(node.codePoint);
    case 'dot':
    case 'characterClass':
    case 'characterClassEscape':
    case 'unicodePropertyEscape':
      return pick(charactersOf(node.raw)) ?? '';
    case 'quantifier': {
      const extra = Math.min(2, (node.max ?? node.min + 2) - node.min);
      const times = node.min + Math.floor(next() * (extra + 1));
      return Array.from({ length: times }, () => sample(node.body[0], next)).join('');
    }
    case 'group':
      return node.behavior === 'normal' || node.behavior === 'ignore'
        ? node.body.map((item) => sample(item, next)).join('')
        : '';
    case 'anchor':
    case 'reference':
      return '';
  }
}

/** Texts for one pattern: samples likely to match, each mutated by a tricky character (inserted, replacing, appended, deleting). */
function textsFor(pattern: string, seed: number): string[] {
  const next = random(seed);
  const tree = parse<Features>(pattern, 'u', FEATURES);
  const texts = new Set<string>(['', ...TRICKY]);
  for (let i = 0; i < 8; i++) {
    const text = sample(tree, next);
    const chars = [...text];
    const at = Math.floor(next() * (chars.length + 1));
    const tricky = TRICKY[Math.floor(next() * TRICKY.length)];
    texts.add(text);
    texts.add([...chars.slice(0, at), tricky, ...chars.slice(at)].join(''));
    texts.add([...chars.slice(0, at), tricky, ...chars.slice(at + 1)].join(''));
    texts.add([...chars.slice(0, at), ...chars.slice(at + 1)].join(''));
    texts.add(`${text}${tricky}`);
    texts.add(`${tricky}${text}`);
  }
  return [...texts];
}

/** Patterns with each construct the translation writes out, beside the tables of real ones. */
const CONSTRUCTS = [
  '.',
  '^.$',
  '^..$',
  '^.+$',
  '\\s',
  '^\\s+$',
  '^\\S+$',
  '^\\d+$',
  '^\\D+$',
  '^\\w+$',
  '^\\W+$',
  '^[\\s\\d]+$',
  '^[^\\s\\d]+$',
  '^[\\S]$',
  '^[^\\S]$',
  '^[\\W\\d]$',
  '^[^\\D]$',
  '\\bword\\b',
  '\\Bor\\B',
  'w\\Bor\\Bd',
  'a\\b',
  '\\b',
  '^$',
  '^',
  '$',
  'a$',
  '^a',
  '[^]',
  '^[^]*$',
  '[]',
  'a[]?b',
  '^[^]{2}$',
  '\\u00e9',
  '\\u{1F600}',
  '^\\uD83D\\uDE00$',
  '^\\uD83D$',
  '\\uDE00',
  '^[\\uD800-\\uDFFF]$',
  '^[\\u{1F600}-\\u{1F64F}]+$',
  '^[^\\u{1F600}]$',
  '\\x41\\x7e',
  '\\0',
  '\\cJ',
  '[\\b]',
  '\\t\\n\\v\\f\\r',
  '^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/$',
  '^[\\-\\]\\\\^]+$',
  '^a{3}$',
  '^a{2,}$',
  '^a{0,2}$',
  '^a{1000}$',
  '^(?:ab){0}c$',
  '^a+?b*?c??$',
  '^(?<year>\\d{4})-(?<month>\\d{2})$',
  '^(?:a|)b$',
  '^(?:)$',
  '^(|a)+$',
  '^(?:a*)*b$',
  '^(a|b)*c?$',
  'A',
  '^[a-z]+$',
  '^\\p{L}+$',
  '^\\P{L}+$',
  '^\\p{Lu}\\p{Ll}*$',
  '^\\p{Letter}$',
  '^\\p{gc=Nd}$',
  '^\\p{Script=Greek}+$',
  '^\\p{sc=Latin}+$',
  '^\\p{Alphabetic}$',
  '^\\p{White_Space}$',
  '^\\p{Emoji}$',
  '^\\p{Any}$',
  '^\\p{ASCII}+$',
  '^[\\p{L}\\d]+$',
  '^[^\\p{L}\\p{N}]+$',
  '^[\\P{L}]$',
];

const HAS_LOOKAROUND = /\(\?<?[=!]/;
const CORPUS = [...new Set([...CONSTRUCTS, ...REAL_PATTERNS, ...FORMERLY_REFUSED, ...EXPONENTIAL_PATTERNS])];

describe('compilePattern', () => {
  it('runs every pattern without a lookaround or back-reference on re2js, the others on V8', () => {
    for (const pattern of CORPUS) {
      const engine = compilePattern(pattern).engine;
      expect([pattern, engine]).toEqual([pattern, HAS_LOOKAROUND.test(pattern) ? 'backtracking' : 'linear']);
    }
  });

  it.each(CORPUS.map((pattern, i) => [pattern, i] as const))('%s: tests every text as V8 does', (pattern, seed) => {
    const v8 = new RegExp(pattern, 'u');
    const compiled = compilePattern(pattern);
    const texts = textsFor(pattern, seed);
    const differ = texts.filter((text) => compiled.test(text) !== v8.test(text)).map((text) => JSON.stringify(text));
    expect(differ).toEqual([]);
    // The texts are worth it: some match and some do not (a pattern matching everything or nothing aside).
    const matched = texts.filter((text) => v8.test(text)).length;
    // (Three match nothing; `\Bor\B` needs word characters around it, which its samples lack.)
    if (!['[]', 'a[]?b', '^(?:ab){0}c$', '\\Bor\\B'].includes(pattern)) expect(matched).toBeGreaterThan(0);
  });

  it('reads every BMP code point and lone surrogate, and astral ones, as V8 does in . \\s \\S \\d \\w \\W \\b and [^]', () => {
    const patterns = ['^.$', '^\\s$', '^\\S$', '^\\d$', '^\\D$', '^\\w$', '^\\W$', '^[^\\s]$', '^[^]$', 'a\\b', '\\Ba'];
    const astral = [0x10000, 0x1f600, 0x1d7d8, 0xe0020, 0x10ffff].map((code) => String.fromCodePoint(code));
    const texts = [...Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code)), ...astral];
    for (const pattern of patterns) {
      const v8 = new RegExp(pattern, 'u');
      const compiled = compilePattern(pattern);
      const differ = texts
        .map((char) => (pattern.startsWith('a') ? `a${char}` : pattern.startsWith('\\B') ? `${char}a` : char))
        .filter((text) => compiled.test(text) !== v8.test(text));
      expect([pattern, differ.map((text) => text.codePointAt(text.length - 1))]).toEqual([pattern, []]);
    }
  });

  it('honours the s flag, and leaves flags it does not translate (i, m, no u) to V8', () => {
    const dotAll = compilePattern('^.$', 'su');
    expect(dotAll.engine).toBe('linear');
    for (const char of ['\n', '\r', '\u2028', '\u2029', 'a', '\u{1F600}']) expect(dotAll.test(char)).toBe(true);
    expect(compilePattern('^.$', 'u').test('\u2028')).toBe(false);
    expect(compilePattern('^a$', 'iu')).toMatchObject({
      engine: 'backtracking',
      backtrackingBecause: 'the flags "iu"',
    });
    expect(compilePattern('^a$', 'mu').engine).toBe('backtracking');
    expect(compilePattern('^a$', '').engine).toBe('backtracking');
    expect(compilePattern('^a$', 'iu').test('A')).toBe(true);
    // Case matters without the i flag, on either engine.
    expect(compilePattern('^a$').test('A')).toBe(false);
  });

  it('says why a pattern stays on V8: a lookaround, a back-reference, repeats RE2 refuses, a program too large', () => {
    expect(compilePattern('^(?=a)a+$').backtrackingBecause).toBe('a lookahead `(?=...)`');
    expect(compilePattern('(?<!-)x').backtrackingBecause).toBe('a lookbehind `(?<!...)`');
    expect(compilePattern('^(a)\\1$').backtrackingBecause).toBe('a back-reference `\\1`');
    expect(compilePattern('^(?<x>a)\\k<x>$').backtrackingBecause).toBe('a back-reference `\\k<x>`');
    expect(compilePattern('^a{1001}$').backtrackingBecause).toBe('a repeat count above 1000');
    expect(compilePattern('^(?:(?:a{10}){10}){11}$').backtrackingBecause).toMatch(
      /^what RE2 refuses \(.*invalid repeat count/,
    );
    expect(compilePattern('^[a-z]{700}[0-9]{700}!$').backtrackingBecause).toBe(
      'more than 1200 instructions once compiled',
    );
    expect(compilePattern('^\\p{scx=Grek}$').backtrackingBecause).toBe(
      'the Unicode property escape `\\p{scx=Grek}` (not one RE2 has as V8 has it)',
    );
    // V8 still decides what a pattern is.
    expect(() => compilePattern('(')).toThrow(SyntaxError);
    expect(() => compilePattern('a{2,1}')).toThrow(SyntaxError);
  });

  it('compiles a pattern once: ajv gets the same object for it, schema after schema', () => {
    expect(compilePattern('^[a-z]+-cache$')).toBe(compilePattern('^[a-z]+-cache$'));
    expect(compilePattern('^[a-z]+-cache$').toString()).toBe('/^[a-z]+-cache$/u');
    expect(compilePattern('a/b').toString()).toBe(new RegExp('a/b', 'u').toString());
  });
});

describe('the texts a pattern is tested on', () => {
  it(`tests up to ${MAX_LINEAR_INPUT_CHARS} characters on re2js for a small pattern, fewer for a large one`, () => {
    const small = compilePattern('^[a-z]+$');
    expect(small.maxInputChars).toBe(MAX_LINEAR_INPUT_CHARS);
    expect(small.test('a'.repeat(MAX_LINEAR_INPUT_CHARS))).toBe(true);
    expect(small.test(`${'a'.repeat(MAX_LINEAR_INPUT_CHARS - 1)}!`)).toBe(false);
    expect(() => small.test('a'.repeat(MAX_LINEAR_INPUT_CHARS + 1))).toThrow(PatternInputTooLong);
    const semver = compilePattern(FORMERLY_REFUSED[1]);
    expect(semver.maxInputChars).toBeGreaterThan(MAX_PATTERN_INPUT_CHARS);
    const large = compilePattern('^(?:[a-f0-9]{1,4}:){7}[a-f0-9]{1,4}(?:,(?:[a-f0-9]{1,4}:){7}[a-f0-9]{1,4})*$');
    expect(large.maxInputChars).toBeLessThan(MAX_PATTERN_INPUT_CHARS);
    expect(large.maxInputChars).toBeGreaterThan(MAX_LINEAR_WORK / 200);
  });

  it(`tests up to ${MAX_PATTERN_INPUT_CHARS} characters on V8`, () => {
    const lookahead = compilePattern('^(?=a)[a-z]+$');
    expect(lookahead.maxInputChars).toBe(MAX_PATTERN_INPUT_CHARS);
    expect(lookahead.test('a'.repeat(MAX_PATTERN_INPUT_CHARS))).toBe(true);
    expect(() => lookahead.test('a'.repeat(MAX_PATTERN_INPUT_CHARS + 1))).toThrow(
      `a text of ${MAX_PATTERN_INPUT_CHARS + 1} characters is longer than the ${MAX_PATTERN_INPUT_CHARS} checked against a pattern`,
    );
  });

  it('runs the patterns V8 takes exponential time on over 20,000-character texts built to trip them, as V8 would on short ones', () => {
    const started = performance.now();
    for (const pattern of EXPONENTIAL_PATTERNS) {
      const compiled = compilePattern(pattern);
      expect(compiled.engine).toBe('linear');
      for (const unit of ['a', 'ab', 'a ', 'x', '1,', 'a1-', 'a=b;', '12ms', 'a.b/']) {
        const text = (length: number) => `${unit.repeat(Math.ceil(length / unit.length)).slice(0, length)}!`;
        // V8 answers on 12 characters in no time: the same shape, longer, must get the same answer.
        expect([pattern, unit, compiled.test(text(12))]).toEqual([
          pattern,
          unit,
          new RegExp(pattern, 'u').test(text(12)),
        ]);
        // A pattern whose program is large is tested on fewer characters: past them the check fails at once.
        if (compiled.maxInputChars > 20_000) compiled.test(text(20_000));
        else {
          expect(() => compiled.test(text(20_000))).toThrow(PatternInputTooLong);
          compiled.test(text(compiled.maxInputChars - 1));
        }
      }
    }
    // V8 would not finish one of these in a lifetime; re2js takes milliseconds each. The bound
    // is generous (a loaded machine must not fail it) and still minutes below exponential.
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('lets go of the DFA states a pattern built past its share (re2js keeps up to 8 MB of them)', () => {
    const re2 = RE2JS.compile('(?:a|b)*a(?:a|b){16}c');
    const next = random(1);
    const text = Array.from({ length: 60_000 }, () => (next() < 0.5 ? 'a' : 'b')).join('');
    // No `a` 17 characters before the `c`: the DFA walks the whole text, building state after state.
    expect(re2.test(`${text}b${'a'.repeat(16)}c`)).toBe(false);
    const dfa = re2.re2Input.lazyDFA;
    expect(dfa.stateBudget - dfa.memBudget).toBeGreaterThan(MAX_KEPT_DFA_BYTES);
    trimDfa(re2);
    expect(dfa.stateBudget - dfa.memBudget).toBe(0);
    expect(re2.test(`${text}b${'a'.repeat(16)}c`)).toBe(false);
  });
});
