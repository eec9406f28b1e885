import { PatternInputTooLong, type SchemaPattern, compilePattern as compileForValidator } from '@app/contracts';
import { parse, type AstNode } from 'regjsparser';

/**
 * A string that matches a JSON Schema `pattern`, built from the pattern's syntax
 * tree (regjsparser: ECMAScript syntax with the `u` flag, as ajv compiles
 * patterns). Deterministic: each quantifier repeats as few times as the wanted
 * length allows, each character class gives its first suitable character. Bounded:
 * the work is linear in the pattern and the string's length, and a repetition
 * that adds nothing is not looped over (`(a?){1000000000}` is the empty string).
 *
 * Best effort: lookarounds, word boundaries and back-references are not planned
 * for; every result is checked with the pattern itself and `undefined` returned
 * when it does not match, for the caller to refuse.
 */

type Node = AstNode<{ namedGroups: true; unicodePropertyEscape: true; lookbehind: true }>;

const FEATURES = { namedGroups: true, unicodePropertyEscape: true, lookbehind: true } as const;

/** Characters tried, in order, for a class, an escape (`\d`, `\p{L}`...) or `.`. */
const PREFERRED = [
  ...new Set([
    ...'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-. ',
    ...Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i)),
  ]),
];
/** At most this many characters of a class are kept to choose from. */
const MAX_CHOICES = 64;
/** Code points scanned for a class none of the preferred characters is in (`\p{Script=Greek}`, `[^\x00-\x7f]`). */
const SCAN_LIMIT = 0x3000;
/** Wanted lengths tried when a pattern cannot give exactly the first one (`(ab)+` has no odd length). */
const LENGTH_TRIES = 8;

/**
 * The work a sample may still do, shared by everything that builds it: pattern
 * tests and class scans here spend from it, and `spend` throws once it is gone.
 */
export interface Work {
  spend(units: number): void;
}

/** A quantifier that repeats more than this is not run: V8 (which runs such a pattern) takes time in proportion (`(a?){1000000000}` overflows its stack). */
const MAX_REPEAT = 100_000;
/** Patterns compiled once per process (a schema's patterns recur on request after request). */
const MAX_CACHED_PATTERNS = 1_000;

interface CompiledPattern {
  /** The pattern as the validator runs it (re2js or V8: see the contracts' pattern-engine.ts). */
  matcher: SchemaPattern;
  /** The syntax tree strings are planned from; `undefined` when regjsparser does not read the pattern. */
  root?: Node;
  /** What one test costs, besides the text's length: the pattern's size and repetition counts. */
  cost: number;
}

const compiled = new Map<string, CompiledPattern | null>();

/**
 * The pattern as ajv runs it (`u` flag), or `undefined` when it does not compile
 * or repeats more than {@link MAX_REPEAT} times (such a pattern is never run here).
 */
function compilePattern(pattern: string): CompiledPattern | undefined {
  let known = compiled.get(pattern);
  if (known === undefined) {
    known = compileFresh(pattern);
    if (compiled.size >= MAX_CACHED_PATTERNS) compiled.clear();
    compiled.set(pattern, known);
  }
  return known ?? undefined;
}

function compileFresh(pattern: string): CompiledPattern | null {
  let matcher: SchemaPattern;
  try {
    matcher = compileForValidator(pattern, 'u');
  } catch {
    return null;
  }
  const root = parsePattern(pattern);
  const repeats = root ? repetitions(root) : [];
  if (repeats.some((count) => count > MAX_REPEAT)) return null;
  return { matcher, root, cost: pattern.length + repeats.reduce((sum, count) => sum + count, 0) };
}

/** The finite repetition counts of every quantifier (`{3,9}`: 9). */
function repetitions(node: Node): number[] {
  const counts: number[] = [];
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const next = stack.pop() as Node;
    if (next.type === 'quantifier') counts.push(next.max ?? next.min);
    if ('body' in next && Array.isArray(next.body)) for (const child of next.body as Node[]) stack.push(child);
  }
  return counts;
}

/**
 * Whether `text` matches `pattern` as the validator tests it; a pattern that is
 * not run here ({@link compilePattern}) matches nothing. Each test spends `work`.
 */
export function testPattern(pattern: string, text: string, work: Work): boolean {
  const known = compilePattern(pattern);
  if (!known) return false;
  work.spend(known.cost + text.length);
  try {
    return known.matcher.test(text);
  } catch (error) {
    // Past the pattern's length limit the validator fails the check; and V8 can still run
    // out of stack on a pattern within the repetition limit.
    if (error instanceof PatternInputTooLong || error instanceof RangeError) return false;
    throw error;
  }
}

/** Length in code points, as JSON Schema counts `minLength` and `maxLength`. */
export function codePoints(text: string): number {
  let count = 0;
  for (const _char of text) count++;
  return count;
}

type Range = readonly [min: number, max: number];

/** Thrown inside a {@link PatternWriter} when its string would pass its limit. */
const TOO_LONG = new Error('the string would pass its limit');

class PatternWriter {
  private readonly ranges = new Map<Node, Range>();
  private readonly groups = new Map<Node, number>();
  private readonly names = new Map<string, number>();
  private readonly captured = new Map<number, string>();
  private readonly choices = new Map<string, string[]>();
  /** What is left of the variant's digits for the classes still to write. */
  private digits = 0;
  /** Characters written so far by this `write`. */
  private written = 0;

  constructor(
    readonly root: Node,
    /** Mixed-radix digits that pick among the characters of successive classes: distinct strings for distinct variants. */
    private readonly variant: number,
    /** The most characters one string may take: a plan that would write more is given up. */
    private readonly limit: number,
    private readonly work: Work,
  ) {
    this.number(root);
  }

  /** Whether the last string used up the variant's digits (if not, a longer one can tell it apart). */
  get usedVariant(): boolean {
    return this.digits === 0;
  }

  /** A string of about `length` characters, or `undefined` past the limit (or for a tree too deep to walk). */
  write(length: number): string | undefined {
    this.captured.clear();
    this.digits = this.variant;
    this.written = 0;
    try {
      return this.node(this.root, length);
    } catch (error) {
      if (error === TOO_LONG || error instanceof RangeError) return undefined;
      throw error;
    }
  }

  /** The shortest and longest strings a node can match (back-references and lookarounds count as empty). */
  range(node: Node): Range {
    let range = this.ranges.get(node);
    if (range) return range;
    range = this.computeRange(node);
    this.ranges.set(node, range);
    return range;
  }

  private computeRange(node: Node): Range {
    switch (node.type) {
      case 'alternative':
        return sum(node.body.map((child) => this.range(child)));
      case 'group':
        return node.behavior === 'normal' || node.behavior === 'ignore'
          ? sum(node.body.map((child) => this.range(child)))
          : [0, 0];
      case 'disjunction': {
        return node.body
          .map((child) => this.range(child))
          .reduce<Range>((hull, [min, max]) => [Math.min(hull[0], min), Math.max(hull[1], max)], [Infinity, 0]);
      }
      case 'quantifier': {
        const [min, max] = this.range(node.body[0]);
        const most = max === 0 ? 0 : (node.max ?? Infinity) * max;
        return [node.min * min, most];
      }
      case 'anchor':
      case 'reference':
        return [0, 0];
      default:
        return [1, 1];
    }
  }

  /** Capturing groups numbered in the order their parentheses open, for back-references. */
  private number(node: Node): void {
    if (node.type === 'group' && node.behavior === 'normal') {
      this.groups.set(node, this.groups.size + 1);
      if (node.name) this.names.set(node.name.value, this.groups.size);
    }
    if ('body' in node && Array.isArray(node.body)) for (const child of node.body as Node[]) this.number(child);
  }

  private node(node: Node, length: number): string {
    switch (node.type) {
      case 'alternative':
        return this.sequence(node.body, length);
      case 'group': {
        if (node.behavior !== 'normal' && node.behavior !== 'ignore') return '';
        const text = this.sequence(node.body, length);
        const index = this.groups.get(node);
        if (index !== undefined) this.captured.set(index, text);
        return text;
      }
      case 'disjunction': {
        const fits = node.body.find((child) => {
          const [min, max] = this.range(child);
          return min <= length && length <= max;
        });
        return this.node(fits ?? node.body[0], length);
      }
      case 'quantifier':
        return this.repeat(node.body[0], node.min, node.max ?? Infinity, length);
      case 'anchor':
        return '';
      case 'reference': {
        const index = node.matchIndex ?? this.names.get(node.name?.value ?? '');
        return index === undefined ? '' : (this.captured.get(index) ?? '');
      }
      case 'value':
        return this.count(String.fromCodePoint(node.codePoint));
      default:
        return this.count(this.pick(node));
    }
  }

  /** Every character is counted as written: a plan that runs past the limit stops at once. */
  private count(char: string): string {
    if (++this.written > this.limit) throw TOO_LONG;
    return char;
  }

  /** Children given their shortest lengths, then the rest of `length` handed out left to right. */
  private sequence(children: readonly Node[], length: number): string {
    const ranges = children.map((child) => this.range(child));
    let extra = length - ranges.reduce((total, [min]) => total + min, 0);
    let text = '';
    children.forEach((child, i) => {
      const [min, max] = ranges[i];
      const more = Math.max(0, Math.min(extra, max - min));
      extra -= more;
      text += this.node(child, min + more);
    });
    return text;
  }

  /** As few repetitions as `length` allows; repetitions that match nothing are written once, not counted out. */
  private repeat(body: Node, least: number, most: number, length: number): string {
    const [min, max] = this.range(body);
    if (max === 0) return least > 0 ? this.node(body, 0) : '';
    const count = Math.min(most, Math.max(least, Math.ceil(length / max)));
    // Repetitions beyond `length` characters can only be empty ones: write those once.
    const written = min === 0 ? Math.min(count, Math.max(length, least > 0 ? 1 : 0)) : count;
    let extra = length - written * min;
    let text = '';
    for (let i = 0; i < written; i++) {
      const more = Math.max(0, Math.min(extra, max - min));
      extra -= more;
      text += this.node(body, min + more);
    }
    return text;
  }

  /** A character the class, escape or `.` matches: the variant's digit picks which. */
  private pick(node: Node): string {
    const raw = node.type === 'dot' ? '.' : node.raw;
    let choices = this.choices.get(raw);
    if (!choices) {
      choices = choicesFor(raw, node, this.work);
      this.choices.set(raw, choices);
    }
    if (choices.length === 0) return '';
    const index = this.digits % choices.length;
    this.digits = Math.floor(this.digits / choices.length);
    return choices[index];
  }
}

/**
 * The characters (at most {@link MAX_CHOICES}) a class, escape or `.` matches:
 * the preferred ones, else the class's own members, else the first found by
 * scanning code points (each one spends `work`).
 */
function choicesFor(raw: string, node: Node, work: Work): string[] {
  const matcher = new RegExp(`^(?:${raw})$`, 'u');
  const test = (char: string) => matcher.test(char);
  let choices = PREFERRED.filter(test).slice(0, MAX_CHOICES);
  if (choices.length === 0 && node.type === 'characterClass' && !node.negative) {
    const ends = node.body.map((member) =>
      member.type === 'value' ? member.codePoint : member.type === 'characterClassRange' ? member.min.codePoint : -1,
    );
    choices = ends
      .filter((code) => code >= 0)
      .map((code) => String.fromCodePoint(code))
      .filter(test);
  }
  for (let code = 0xa0; choices.length === 0 && code < SCAN_LIMIT; code++) {
    work.spend(1);
    if (test(String.fromCharCode(code))) choices.push(String.fromCharCode(code));
  }
  return choices.slice(0, MAX_CHOICES);
}

function sum(ranges: readonly Range[]): Range {
  return ranges.reduce<Range>((total, [min, max]) => [total[0] + min, total[1] + max], [0, 0]);
}

function parsePattern(pattern: string): Node | undefined {
  try {
    return parse<typeof FEATURES>(pattern, 'u', FEATURES);
  } catch {
    // A syntax regjsparser does not know (ajv compiled it, so V8 does): no string is planned from it.
    return undefined;
  }
}

/**
 * A string of `minLength`..`maxLength` code points that `pattern` matches, or
 * `undefined`. `variant` > 0 asks for another such string (for `uniqueItems`).
 */
export function stringForPattern(
  pattern: string,
  minLength: number,
  maxLength: number,
  variant: number,
  work: Work,
): string | undefined {
  const known = compilePattern(pattern);
  if (!known?.root) return undefined;
  let writer: PatternWriter;
  let min: number;
  let max: number;
  try {
    writer = new PatternWriter(known.root, variant, maxLength, work);
    [min, max] = writer.range(known.root);
  } catch (error) {
    // Groups nested deeper than the stack goes: no string is planned from them.
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  // Past its longest, an unanchored pattern's string is padded up to `minLength`.
  const first = Math.min(Math.max(min, minLength), max);
  const last = Math.min(max, maxLength, first + LENGTH_TRIES - 1);
  for (let length = first; length <= last; length++) {
    const text = writer.write(length);
    if (text === undefined || !writer.usedVariant) continue;
    for (const candidate of padded(text, minLength)) {
      const size = codePoints(candidate);
      if (size >= minLength && size <= maxLength && testPattern(pattern, candidate, work)) return candidate;
    }
  }
  return undefined;
}

/** The text, and (patterns are not anchored unless they say so) the text padded after or before to `minLength`. */
function padded(text: string, minLength: number): string[] {
  const missing = minLength - codePoints(text);
  if (missing <= 0) return [text];
  const pad = 'x'.repeat(missing);
  return [text + pad, pad + text];
}
