import { type CharacterClass, type CharacterClassEscape, type RootNode, parse } from 'regjsparser';

/**
 * Whether a JSON Schema `pattern` (an ECMAScript regular expression with the `u`
 * flag, as ajv compiles it) can take exponential time to run on V8's backtracking
 * engine: the classic ReDoS shapes, where one piece of text can be matched in
 * exponentially many ways before a mismatch at its end is found.
 *
 * - a repeated part that contains a part of variable length, `(a+)+`, `(a*)*`,
 *   `(\w+\s?)*`, `(a?){30}`: unless the repeated part starts or ends with a
 *   character that its variable part cannot match, which splits the text into
 *   iterations one way only, as in `^[a-z]+(-[a-z]+)*$` or `(\d{1,3}\.){3}`;
 * - a repeated alternation whose options can match the same text, `(a|a)*`,
 *   `(\w|\d)+`, `(.|\s)*`, `(a|aa)+`.
 *
 * A bounded repetition counts when the ways multiply past {@link MAX_WAYS}
 * (`(\d{1,3}){4}` is fine). Patterns slow in polynomial time (`\d*\d*\d*x` on a
 * long text) are not detected. Pure; the pattern is read with regjsparser.
 *
 * The gateway asks only about patterns that re2js cannot run (a lookaround, a
 * back-reference...: see pattern-engine.ts); the rest run in linear time.
 */

/** More ways than this of matching one text, by the estimate below, is too many. */
const MAX_WAYS = 10_000;
/** Groups nested deeper than this are refused rather than analysed (the analysis recurses). */
export const MAX_PATTERN_NESTING = 128;

/** Characters one element may match: ASCII exactly, anything else as "some". */
class CharSet {
  private readonly words = new Uint32Array(4);
  other = false;

  static of(...codes: number[]): CharSet {
    const set = new CharSet();
    for (const code of codes) set.add(code);
    return set;
  }

  static range(from: number, to: number): CharSet {
    const set = new CharSet();
    set.addRange(from, to);
    return set;
  }

  add(code: number): this {
    if (code < 128) this.words[code >> 5] |= 1 << (code & 31);
    else this.other = true;
    return this;
  }

  addRange(from: number, to: number): this {
    for (let code = from; code <= Math.min(to, 127); code++) this.add(code);
    if (to > 127) this.other = true;
    return this;
  }

  addSet(set: CharSet): this {
    for (let i = 0; i < 4; i++) this.words[i] |= set.words[i];
    this.other ||= set.other;
    return this;
  }

  /** Everything this does not match (non-ASCII characters always included). */
  complement(): CharSet {
    const set = new CharSet();
    for (let i = 0; i < 4; i++) set.words[i] = ~this.words[i];
    set.other = true;
    return set;
  }

  intersects(set: CharSet): boolean {
    for (let i = 0; i < 4; i++) if ((this.words[i] & set.words[i]) !== 0) return true;
    return this.other && set.other;
  }
}

const DIGIT = CharSet.range(48, 57);
const WORD = CharSet.range(48, 57).addRange(65, 90).addRange(97, 122).add(95);
const SPACE = CharSet.of(9, 10, 11, 12, 13, 32).add(0xa0);
const ANY = new CharSet().complement();
const DOT = CharSet.of(10, 13).complement();

/** The parsed pattern: only what the analysis needs. */
type Node =
  | { kind: 'char'; set: CharSet }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; min: number; max: number; body: Node }
  /** A back-reference: text of any length. */
  | { kind: 'backref' }
  /** An assertion (`^`, `$`, `\b`) or a lookaround, whose body still runs. */
  | { kind: 'zero'; body?: Node };

type Features = { namedGroups: true; unicodePropertyEscape: true; lookbehind: true };
const FEATURES: Features = { namedGroups: true, unicodePropertyEscape: true, lookbehind: true };
type Ast = RootNode<Features>;

const CLASS_ESCAPES: Record<CharacterClassEscape['value'], CharSet> = {
  d: DIGIT,
  D: DIGIT.complement(),
  w: WORD,
  W: WORD.complement(),
  s: SPACE,
  S: SPACE.complement(),
};

/** Groups nested deeper than this are refused rather than analysed (the analysis recurses). */
class TooDeep extends Error {}

/** regjsparser's tree (the syntax ajv compiles: ECMAScript with the `u` flag) as what the analysis needs. */
function toNode(ast: Ast, depth: number): Node {
  switch (ast.type) {
    case 'alternative':
      return sequenceOf(ast.body, depth);
    case 'disjunction':
      return { kind: 'alt', options: ast.body.map((option) => toNode(option, depth)) };
    case 'anchor':
      return { kind: 'zero' };
    case 'dot':
      return { kind: 'char', set: DOT };
    case 'value':
      return { kind: 'char', set: CharSet.of(ast.codePoint) };
    case 'characterClassEscape':
      return { kind: 'char', set: CLASS_ESCAPES[ast.value] };
    case 'unicodePropertyEscape':
      return { kind: 'char', set: ANY };
    case 'characterClass':
      return { kind: 'char', set: classSet(ast) };
    case 'reference':
      return { kind: 'backref' };
    case 'quantifier':
      return { kind: 'repeat', min: ast.min, max: ast.max ?? Infinity, body: toNode(ast.body[0], depth) };
    case 'group': {
      if (depth >= MAX_PATTERN_NESTING) throw new TooDeep();
      const body = sequenceOf(ast.body, depth + 1);
      return ast.behavior === 'normal' || ast.behavior === 'ignore' ? body : { kind: 'zero', body };
    }
  }
}

function sequenceOf(items: Ast[], depth: number): Node {
  return items.length === 1 ? toNode(items[0], depth) : { kind: 'seq', items: items.map((i) => toNode(i, depth)) };
}

function classSet(ast: CharacterClass<Features>): CharSet {
  const set = new CharSet();
  for (const item of ast.body) {
    if (item.type === 'value') set.add(item.codePoint);
    else if (item.type === 'characterClassRange') set.addRange(item.min.codePoint, item.max.codePoint);
    else if (item.type === 'characterClassEscape') set.addSet(CLASS_ESCAPES[item.value]);
    else set.addSet(ANY);
  }
  return ast.negative ? set.complement() : set;
}

/** What the analysis knows of a node, bottom-up. */
interface Facts {
  /** How much the length of its text may vary: 0 not at all, Infinity without bound. */
  spread: number;
  /** The characters its variable parts may match. */
  spreadChars: CharSet;
  /** How many parts of variable length it has. */
  variables: number;
  /** It holds a choice whose options can match the same text. */
  ambiguous: boolean;
  /** The characters its text may start with, and whether it may be empty. */
  first: CharSet;
  nullable: boolean;
  /** Its text character by character, when it is a fixed sequence of single characters. */
  literal?: CharSet[];
}

const NOTHING = new CharSet();
const EMPTY: Facts = {
  spread: 0,
  spreadChars: NOTHING,
  variables: 0,
  ambiguous: false,
  first: NOTHING,
  nullable: true,
};

class Analysis {
  problem: string | undefined;

  facts(node: Node): Facts {
    switch (node.kind) {
      case 'char':
        return { ...EMPTY, first: node.set, nullable: false, literal: [node.set] };
      case 'backref':
        return { ...EMPTY, spread: Infinity, spreadChars: ANY, variables: 1, first: ANY };
      case 'zero':
        if (node.body) this.facts(node.body);
        return { ...EMPTY, literal: [] };
      case 'seq':
        return this.sequence(node.items.map((item) => this.facts(item)));
      case 'alt':
        return this.alternation(node);
      case 'repeat':
        return this.repeat(node, this.facts(node.body));
    }
  }

  private sequence(items: Facts[]): Facts {
    const out: Facts = { ...EMPTY, spreadChars: new CharSet(), first: new CharSet(), literal: [] };
    for (const item of items) {
      out.spread += item.spread;
      out.spreadChars.addSet(item.spreadChars);
      out.variables += item.variables;
      out.ambiguous ||= item.ambiguous;
      if (out.nullable) out.first.addSet(item.first);
      out.nullable &&= item.nullable;
      out.literal = out.literal && item.literal ? [...out.literal, ...item.literal] : undefined;
    }
    return out;
  }

  private alternation(node: Extract<Node, { kind: 'alt' }>): Facts {
    const options = node.options.map((option) => this.facts(option));
    const out: Facts = { ...EMPTY, spreadChars: new CharSet(), first: new CharSet(), nullable: false };
    for (const [i, option] of options.entries()) {
      out.spread = Math.max(out.spread, option.spread);
      out.spreadChars.addSet(option.spreadChars);
      out.variables += option.variables;
      out.ambiguous ||= option.ambiguous || options.slice(0, i).some((other) => overlap(other, option));
      out.first.addSet(option.first);
      out.nullable ||= option.nullable;
    }
    // Options of (possibly) different lengths make the choice one part of variable length.
    const lengths = new Set(options.map((option) => (option.spread === 0 ? option.literal?.length : -1)));
    if (lengths.size > 1 || lengths.has(undefined)) {
      out.spread = Math.max(out.spread, 1);
      out.spreadChars = allChars(node);
      out.variables++;
    }
    return out;
  }

  private repeat(node: Extract<Node, { kind: 'repeat' }>, body: Facts): Facts {
    if (node.max > 1 && this.problem === undefined) this.problem = repeatProblem(node, body);
    const fixed = node.min === node.max;
    const spread = fixed
      ? body.spread * node.max || 0
      : node.max === Infinity
        ? Infinity
        : node.max - node.min + body.spread * node.max;
    return {
      spread,
      spreadChars: fixed ? body.spreadChars : allChars(node.body),
      variables: fixed ? body.variables * Math.min(node.max, 2) : 1,
      ambiguous: body.ambiguous,
      first: body.first,
      nullable: node.min === 0 || body.nullable,
      literal: fixed && body.literal && node.max <= 64 ? repeatLiteral(body.literal, node.max) : undefined,
    };
  }
}

/** Why repeating `body` as `node` says gives too many ways of matching one text, if it does. */
function repeatProblem(node: Extract<Node, { kind: 'repeat' }>, body: Facts): string | undefined {
  if (body.ambiguous && ways(1, node.max) > MAX_WAYS) {
    return 'it repeats a choice whose options can match the same text (let no two options start alike, as in `(cat|dog)+`)';
  }
  if (
    body.spread > 0 &&
    ways(body.spread, node.max) > MAX_WAYS &&
    !splitByDelimiter(node.body, body) &&
    !deterministicIterations(node.body, body)
  ) {
    return 'it repeats a part that itself varies in length (follow each of its variable parts by a character that part cannot match, as in `^[a-z]+(-[a-z]+)*$` or `(\\s*,\\s*[a-z]+)*`)';
  }
  return undefined;
}

/** (spread + 1) ^ times: how many ways `times` iterations of a part varying by `spread` may split one text. */
function ways(spread: number, times: number): number {
  return Math.pow(spread + 1, times);
}

/**
 * Whether each iteration of `body` starts, or ends, with one character that its
 * only variable part cannot match: iterations then meet at those characters, one
 * way. (With two variable parts an iteration may split its own text several ways,
 * and those ways multiply over the iterations.)
 */
function splitByDelimiter(body: Node, facts: Facts): boolean {
  if (facts.variables > 1) return false;
  const items = body.kind === 'seq' ? body.items : [body];
  const edges = [items[0], items[items.length - 1]];
  return edges.some((edge) => edge?.kind === 'char' && !edge.set.intersects(facts.spreadChars));
}

/**
 * Whether the text of each iteration of `body` is taken apart one way only: every
 * part of variable length in it repeats one character class (`\s*`, `[a-z]+`,
 * `\d{1,3}`) that no character able to follow it can belong to (the next parts, up
 * to one that cannot be empty, or, at the end, the next iteration's first). Each
 * such repetition then ends where its characters end, and iterations meet where
 * the last one's do, as in `(\s*,\s*[a-z]+)*`: trying another split fails at
 * the next character, so the work grows with the text's length, not exponentially.
 * (A choice among options that can match the same text is caught apart.)
 */
function deterministicIterations(body: Node, facts: Facts): boolean {
  if (facts.nullable) return false;
  const items = body.kind === 'seq' ? body.items : [body];
  const itemFacts = items.map((item) => new Analysis().facts(item));
  for (const [i, item] of items.entries()) {
    if (itemFacts[i].spread === 0) continue;
    if (item.kind !== 'repeat' || item.body.kind !== 'char') return false;
    const follow = new CharSet();
    let j = i + 1;
    for (; j < items.length; j++) {
      follow.addSet(itemFacts[j].first);
      if (!itemFacts[j].nullable) break;
    }
    if (j === items.length) follow.addSet(facts.first);
    if (item.body.set.intersects(follow)) return false;
  }
  return true;
}

/** Whether two options of one choice can match the same text (or one the start of the other's). */
function overlap(a: Facts, b: Facts): boolean {
  if (a.literal && b.literal && a.literal.length > 0 && b.literal.length > 0) {
    const length = Math.min(a.literal.length, b.literal.length);
    for (let i = 0; i < length; i++) if (!a.literal[i].intersects(b.literal[i])) return false;
    return true;
  }
  return a.first.intersects(b.first);
}

function allChars(node: Node): CharSet {
  switch (node.kind) {
    case 'char':
      return node.set;
    case 'backref':
      return ANY;
    case 'zero':
      return new CharSet();
    case 'seq':
      return node.items.reduce((set, item) => set.addSet(allChars(item)), new CharSet());
    case 'alt':
      return node.options.reduce((set, option) => set.addSet(allChars(option)), new CharSet());
    case 'repeat':
      return allChars(node.body);
  }
}

function repeatLiteral(literal: CharSet[], times: number): CharSet[] {
  const out: CharSet[] = [];
  for (let i = 0; i < times; i++) out.push(...literal);
  return out;
}

/**
 * Why `pattern` can take exponential time to run, in a few words, or `undefined`
 * when it cannot (as far as this analysis sees; see the file's comment). The
 * pattern must be one that compiles with the `u` flag.
 */
export function catastrophicPattern(pattern: string): string | undefined {
  let tree: Node;
  try {
    tree = toNode(parse<Features>(pattern, 'u', FEATURES), 0);
  } catch (error) {
    if (error instanceof TooDeep || error instanceof RangeError) {
      return `it nests groups more than ${MAX_PATTERN_NESTING} levels deep`;
    }
    // A syntax regjsparser does not read (ajv compiled the pattern, so V8 does): not judged.
    return undefined;
  }
  const analysis = new Analysis();
  analysis.facts(tree);
  return analysis.problem;
}
