import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { toRe2Syntax } from './re2-syntax';

/**
 * How the gateway runs a JSON Schema's patterns (`pattern`, `patternProperties`,
 * `propertyNames`) on the texts it checks. A pattern RE2 can express (see
 * re2-syntax.ts) runs on re2js, whose time grows linearly with the text's length
 * whatever the pattern; any other (a lookaround, a back-reference) runs on V8's
 * backtracking engine, as ECMAScript defines it, on texts of at most
 * {@link MAX_PATTERN_INPUT_CHARS} characters, once the safety analysis has let it
 * through (regex-safety.ts).
 */

/**
 * Longest text a pattern run by V8 is tested on. V8 backtracks: a pattern not
 * refused as exponential may still take time in the square (or more) of its
 * text's length (`(?=x)(cat|dog)+y` on 18,000 characters: 0.3 s).
 */
export const MAX_PATTERN_INPUT_CHARS = 10_000;
/** Longest text a pattern run by re2js is tested on. */
export const MAX_LINEAR_INPUT_CHARS = 100_000;
/**
 * re2js's time is linear in the text, by a factor that grows with the pattern's
 * program: measured on patterns that defeat its DFA, up to ~200 ns per character
 * and instruction (`(?:a|b)*a(?:a|b){200}c` on 48,000 random a/b: 1 s). A text
 * is tested when its length times the program's size is at most this (~0.2 s at
 * worst; a few ms for most patterns): 100,000 characters for a program of 10
 * instructions (`^[a-z]+$`), 18,000 for semver.org's (55). Texts as long as the
 * program are always tested (~0.3 s at worst, for the largest programs): a
 * pattern matches no more characters than it has instructions, unless it
 * repeats without bound (`^a{1000}$` needs 1,000).
 */
export const MAX_LINEAR_WORK = 1_000_000;
/**
 * re2js keeps the states its lazy DFA built (up to 8 MB of them) for the next
 * test. A pattern holding more than this many bytes of them lets them go after a
 * test, so that the many patterns kept compiled cannot pin much memory.
 */
export const MAX_KEPT_DFA_BYTES = 128 * 1024;

/** A text longer than a pattern's limit met it (thrown out of ajv's validator, which cannot say why otherwise). */
export class PatternInputTooLong extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`a text of ${length} characters is longer than the ${limit} checked against a pattern`);
  }
}

/** A compiled pattern, as ajv's `code.regExp` returns it. */
export interface SchemaPattern {
  /** `linear`: re2js runs it; `backtracking`: V8 does (lookarounds, back-references...). */
  readonly engine: 'linear' | 'backtracking';
  /** On V8: what in the pattern keeps it from re2js (`a back-reference \`\\1\``). */
  readonly backtrackingBecause?: string;
  /** The longest text it is tested on. */
  readonly maxInputChars: number;
  /** Whether the pattern matches somewhere in `text` (RegExp.prototype.test); throws {@link PatternInputTooLong}. */
  test(text: string): boolean;
  /** `/pattern/flags`: ajv's key for the pattern in the code it generates. */
  toString(): string;
}

/** The lazy DFA re2js keeps on a compiled pattern: internal, as re2js's own type declarations describe it. */
interface KeptDfa {
  stateBudget: number;
  memBudget: number;
  clearCache(): void;
}

/** Drops the DFA states `re2` keeps when they take more than {@link MAX_KEPT_DFA_BYTES} (by re2js's count). */
export function trimDfa(re2: RE2JS): void {
  const dfa = re2.re2Input.lazyDFA as KeptDfa | null;
  if (dfa && dfa.stateBudget - dfa.memBudget > MAX_KEPT_DFA_BYTES) dfa.clearCache();
}

function linearPattern(re2: RE2JS, source: string): SchemaPattern {
  const size = re2.programSize();
  const maxInputChars = Math.min(MAX_LINEAR_INPUT_CHARS, Math.max(size, Math.floor(MAX_LINEAR_WORK / size)));
  return {
    engine: 'linear',
    maxInputChars,
    test(text: string): boolean {
      if (text.length > maxInputChars) throw new PatternInputTooLong(text.length, maxInputChars);
      const matched = re2.test(text);
      trimDfa(re2);
      return matched;
    },
    toString: () => source,
  };
}

function backtrackingPattern(regExp: RegExp, because: string): SchemaPattern {
  return {
    engine: 'backtracking',
    backtrackingBecause: because,
    maxInputChars: MAX_PATTERN_INPUT_CHARS,
    test(text: string): boolean {
      if (text.length > MAX_PATTERN_INPUT_CHARS) throw new PatternInputTooLong(text.length, MAX_PATTERN_INPUT_CHARS);
      return regExp.test(text);
    },
    toString: () => regExp.toString(),
  };
}

/** re2js running `pattern` with V8's meaning, or why RE2 cannot run it. */
function compileLinear(pattern: string, flags: string): RE2JS | string {
  const translation = toRe2Syntax(pattern, flags);
  if (!translation.ok) return translation.why;
  try {
    return RE2JS.compile(translation.source);
  } catch (error) {
    // What the translation does not foresee (repeats nested past 1,000 copies in all) runs on V8.
    return `what RE2 refuses (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** A compiled pattern and what it weighs in the cache: its RE2 program's size, or nothing extra on V8. */
interface Cached {
  pattern: SchemaPattern;
  weight: number;
}

function compileFresh(pattern: string, flags: string): Cached {
  // V8 first: it says whether the pattern is one at all, with the error ajv reports.
  const regExp = new RegExp(pattern, flags);
  const re2 = compileLinear(pattern, flags);
  if (typeof re2 === 'string') return { pattern: backtrackingPattern(regExp, re2), weight: 1 + pattern.length };
  return { pattern: linearPattern(re2, regExp.toString()), weight: 1 + pattern.length + re2.programSize() };
}

/**
 * Compiled patterns by flags and text: the same ones come back schema after
 * schema (and ajv compiles each occurrence anew). Bounded by count, and by
 * text and program size (a compiled instruction takes ~150 bytes).
 */
const compiled = new LRUCache<string, Cached>({
  max: 1_000,
  maxSize: 500_000,
  sizeCalculation: (value) => value.weight,
});

/**
 * `pattern` compiled as ajv runs it (`flags` is ajv's: `u`), on the engine that
 * runs it (see the file's comment). Throws V8's SyntaxError for a pattern that
 * is not one.
 */
export function compilePattern(pattern: string, flags = 'u'): SchemaPattern {
  const key = `${flags}/${pattern}`;
  let known = compiled.get(key);
  if (!known) {
    known = compileFresh(pattern, flags);
    compiled.set(key, known);
  }
  return known.pattern;
}
