import { type CharacterClass, type RootNode, type UnicodePropertyEscape, parse } from 'regjsparser';
import { MAX_PATTERN_NESTING } from './regex-safety';
import { unicodePropertyName } from './unicode-properties';

/**
 * An ECMAScript regular expression (a JSON Schema `pattern`, as ajv compiles it:
 * the `u` flag) rewritten in RE2's syntax with exactly its meaning, for a
 * linear-time engine (re2js) to run; or why it cannot be.
 *
 * Nothing is left to RE2's own reading of an escape: every character is written
 * as a code point (`\x{2028}`), and every class JavaScript defines differently
 * from RE2 as the code points JavaScript gives it: `\s` (with `\v`, U+00A0,
 * U+FEFF, U+2028/2029 and the Zs spaces), `.` (everything but `\n`, `\r`, U+2028
 * and U+2029, unless the `s` flag), `\d` and `\w` (ASCII). `^` and `$` are the
 * text's ends in both (no `m` flag), `\b` and `\B` are ASCII in both (no `i`
 * flag). Groups capture nothing (a test needs no captures). Not written:
 * lookarounds and back-references (RE2 has neither), a repeat count above
 * {@link RE2_MAX_REPEAT}, a program larger than {@link MAX_RE2_PROGRAM}, Unicode
 * properties RE2 names differently or whose tables may differ (see
 * unicode-properties.ts), and flags other than `u` and `s`.
 */

type Features = { namedGroups: true; unicodePropertyEscape: true; lookbehind: true };
const FEATURES: Features = { namedGroups: true, unicodePropertyEscape: true, lookbehind: true };
type Node = RootNode<Features>;

/** RE2 refuses a repeat count (`{n,m}`) above this. */
export const RE2_MAX_REPEAT = 1_000;
/**
 * Patterns whose RE2 program would be larger than this many instructions (by
 * the estimate below) are not compiled: re2js takes ~20 µs per instruction to
 * compile one, and its matching time per character grows with the program too.
 * (`^a{1000}$` still is.)
 */
export const MAX_RE2_PROGRAM = 1_200;

export type Re2Translation = { ok: true; source: string; size: number } | { ok: false; why: string };

/** RE2 text and the estimated size of its program (RE2 instructions). */
interface Piece {
  source: string;
  size: number;
}

/** Inclusive code point ranges, sorted and disjoint. */
type Ranges = ReadonlyArray<readonly [number, number]>;

const MAX_CODE_POINT = 0x10ffff;
const DIGITS: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
/** ECMAScript's WhiteSpace and LineTerminator (Unicode 17's Zs included). */
const SPACE: Ranges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
/** What `.` does not match without the `s` flag: ECMAScript's line terminators. */
const LINE_TERMINATORS: Ranges = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];
const EVERYTHING: Ranges = [[0, MAX_CODE_POINT]];

const CLASS_ESCAPES: Record<'d' | 'w' | 's', Ranges> = { d: DIGITS, w: WORD, s: SPACE };

function complement(ranges: Ranges): Ranges {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) out.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/** A code point as RE2 reads it anywhere, in a class or out: letters and digits as they are, the rest escaped. */
function codePoint(code: number): string {
  const char = String.fromCodePoint(code);
  return /^[A-Za-z0-9]$/.test(char) ? char : `\\x{${code.toString(16)}}`;
}

function rangeText(from: number, to: number): string {
  return from === to ? codePoint(from) : `${codePoint(from)}-${codePoint(to)}`;
}

function classOf(ranges: Ranges): Piece {
  // RE2 has no empty class: "nothing" is the complement of everything.
  if (ranges.length === 0) return { source: `[^${rangeText(0, MAX_CODE_POINT)}]`, size: 1 };
  return { source: `[${ranges.map(([from, to]) => rangeText(from, to)).join('')}]`, size: 1 };
}

/** Thrown inside the translation: the pattern cannot be written for RE2, and why. */
class Untranslatable extends Error {}

function propertyText(escape: UnicodePropertyEscape): string {
  const name = unicodePropertyName(escape.value);
  if (name === undefined) {
    throw new Untranslatable(`the Unicode property escape \`${escape.raw}\` (not one RE2 has as V8 has it)`);
  }
  return `\\${escape.negative ? 'P' : 'p'}{${name}}`;
}

function characterClass(node: CharacterClass<Features>): Piece {
  const parts: string[] = [];
  for (const item of node.body) {
    if (item.type === 'value') parts.push(codePoint(item.codePoint));
    else if (item.type === 'characterClassRange') parts.push(rangeText(item.min.codePoint, item.max.codePoint));
    else if (item.type === 'unicodePropertyEscape') parts.push(propertyText(item));
    else {
      const ranges = CLASS_ESCAPES[item.value.toLowerCase() as 'd' | 'w' | 's'];
      const set = item.value === item.value.toLowerCase() ? ranges : complement(ranges);
      parts.push(...set.map(([from, to]) => rangeText(from, to)));
    }
  }
  if (parts.length === 0) return classOf(node.negative ? EVERYTHING : []);
  return { source: `[${node.negative ? '^' : ''}${parts.join('')}]`, size: 1 };
}

function quantifier(node: Extract<Node, { type: 'quantifier' }>, body: Piece): Piece {
  const { min, max } = node;
  if (min > RE2_MAX_REPEAT || (max !== undefined && max > RE2_MAX_REPEAT)) {
    throw new Untranslatable(`a repeat count above ${RE2_MAX_REPEAT}`);
  }
  const operand = `(?:${body.source})`;
  if (max === undefined) {
    const suffix = min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
    return { source: operand + suffix, size: Math.max(min, 1) * body.size + 1 };
  }
  return { source: `${operand}{${min},${max}}`, size: min * body.size + (max - min) * (body.size + 1) };
}

const LOOKAROUNDS = {
  lookahead: 'a lookahead `(?=...)`',
  negativeLookahead: 'a lookahead `(?!...)`',
  lookbehind: 'a lookbehind `(?<=...)`',
  negativeLookbehind: 'a lookbehind `(?<!...)`',
};

class Translator {
  constructor(private readonly dotAll: boolean) {}

  piece(node: Node, depth: number): Piece {
    switch (node.type) {
      case 'alternative':
        return this.sequence(node.body, depth);
      case 'disjunction': {
        const options = node.body.map((option) => this.piece(option, depth));
        return {
          source: `(?:${options.map((option) => option.source).join('|')})`,
          size: options.reduce((sum, option) => sum + option.size, options.length - 1),
        };
      }
      case 'anchor':
        return { source: { start: '^', end: '$', boundary: '\\b', 'not-boundary': '\\B' }[node.kind], size: 1 };
      case 'dot':
        return classOf(this.dotAll ? EVERYTHING : complement(LINE_TERMINATORS));
      case 'value':
        return { source: codePoint(node.codePoint), size: 1 };
      case 'characterClassEscape': {
        const ranges = CLASS_ESCAPES[node.value.toLowerCase() as 'd' | 'w' | 's'];
        return classOf(node.value === node.value.toLowerCase() ? ranges : complement(ranges));
      }
      case 'unicodePropertyEscape':
        return { source: propertyText(node), size: 1 };
      case 'characterClass':
        return characterClass(node);
      case 'reference':
        throw new Untranslatable(`a back-reference \`${node.raw}\``);
      case 'quantifier':
        return quantifier(node, this.piece(node.body[0], depth));
      case 'group':
        if (node.behavior !== 'normal' && node.behavior !== 'ignore') {
          throw new Untranslatable(LOOKAROUNDS[node.behavior]);
        }
        if (depth >= MAX_PATTERN_NESTING) {
          throw new Untranslatable(`groups nested more than ${MAX_PATTERN_NESTING} levels deep`);
        }
        return this.sequence(node.body, depth + 1);
    }
  }

  private sequence(items: Node[], depth: number): Piece {
    const pieces = items.map((item) => this.piece(item, depth));
    return {
      source: `(?:${pieces.map((piece) => piece.source).join('')})`,
      size: pieces.reduce((sum, piece) => sum + piece.size, 0),
    };
  }
}

/**
 * `pattern` (ECMAScript syntax, compiled with `flags`) in RE2's syntax, with the
 * same meaning, and its estimated program size; or why it cannot be written so.
 * The pattern must be one V8 compiles with these flags. Pure.
 */
export function toRe2Syntax(pattern: string, flags: string): Re2Translation {
  if (!flags.includes('u') || /[^us]/.test(flags)) return { ok: false, why: `the flags "${flags}"` };
  let root: Node;
  try {
    root = parse<Features>(pattern, 'u', FEATURES);
  } catch {
    return { ok: false, why: 'a syntax regjsparser does not read' };
  }
  try {
    const { source, size } = new Translator(flags.includes('s')).piece(root, 0);
    if (size > MAX_RE2_PROGRAM) return { ok: false, why: `more than ${MAX_RE2_PROGRAM} instructions once compiled` };
    return { ok: true, source, size };
  } catch (error) {
    if (error instanceof Untranslatable) return { ok: false, why: error.message };
    throw error;
  }
}
