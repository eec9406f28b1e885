import { GatewayError, PatternInputTooLong, compileSchema, formatSchemaErrors } from '@app/contracts';
import { sampleNumber, sampleString } from './sample-scalar';
import { ContainerSampler, type Place } from './sample-containers';
import { SchemaRefs } from './schema-refs';
import {
  SampleFailure,
  TYPES,
  acceptsValue,
  allowedTypes,
  isSchema,
  type JsonType,
  type Schema,
} from './schema-values';

/**
 * Builds a deterministic value that satisfies a JSON Schema, for the mock
 * provider's tool arguments and structured output: the first value found that
 * honours every keyword the builder plans for (types, `const`, `enum`, string
 * lengths, `pattern`, `format`, numeric ranges and `multipleOf`, properties,
 * `required`, `additionalProperties`, `patternProperties`, `propertyNames`,
 * `minProperties`/`maxProperties`, dependencies, items, `prefixItems`,
 * `minItems`/`maxItems`, `uniqueItems`, `contains`, `allOf`/`anyOf`/`oneOf`,
 * `if`/`then`/`else`, `$ref`s, recursive ones included). Every value is then
 * checked with the gateway's own validator; one that fails a keyword the builder
 * does not plan for (a `not` about objects or arrays, a `oneOf` whose branches
 * overlap...), or a schema no value satisfies, is refused with a 400 naming the
 * schema and saying why, never returned.
 */

export interface SampleOptions {
  /** `required`: only required properties (tool arguments); `all`: every property. */
  properties: 'required' | 'all';
  /** The request field that holds the schema, named by the 400 when no sample can be built. */
  param: string;
  /**
   * Another value than the usual one (0), where the schema allows (the mock's
   * choice `i` of `n`): strings numbered, numbers further into their range, the
   * next `enum` member... The usual value when the schema allows no other.
   */
  variant?: number;
}

/**
 * The most JSON (in characters, as serialised) one sample may take. A schema that
 * requires more (`minItems`, items times nesting, recursive `$ref`s, large `const`s
 * repeated) is refused with a 400 before the work is done, rather than freezing the
 * event loop while building it.
 */
export const MAX_SAMPLE_CHARS = 100_000;
/** Characters built in all, branches given up included: alternatives cannot multiply the work. */
const MAX_WORK = 10 * MAX_SAMPLE_CHARS;
/**
 * Past this depth, and inside a `$ref` to a schema it is already in, a sample
 * holds only what its schema requires (required properties, `minItems` items, the
 * `null` of a nullable type), so recursive schemas end.
 */
const FULL_DEPTH = 8;
/** Values tried in turn for a scalar whose `not` rules out the first. */
const NOT_TRIES = 8;
/** Values nested deeper are refused: a schema that requires them (a `$ref` loop through required properties) has no value here. */
const MAX_SAMPLE_DEPTH = 64;

/** A schema as a list of parts (itself, its `$ref`s, its `allOf`s) and the choices its `anyOf`s, `oneOf`s and `if`s leave. */
interface Expansion {
  readonly parts: readonly Schema[];
  readonly choices: readonly unknown[][][];
}

/**
 * The types to try for a schema: those it allows, in its order (else guessed from
 * its keywords); `null` last, or first once only what is required is built.
 */
function typeOrder(parts: readonly Schema[], minimal: boolean): JsonType[] {
  const allowed = allowedTypes(parts);
  if (allowed) {
    const others = allowed.filter((t) => t !== 'null');
    if (others.length === allowed.length) return allowed;
    return minimal ? ['null', ...others] : [...others, 'null'];
  }
  const has = (...keys: string[]) => parts.some((part) => keys.some((key) => key in part));
  const guessed: JsonType[] = [];
  if (has('properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties'))
    guessed.push('object');
  if (has('items', 'prefixItems', 'minItems', 'maxItems', 'contains', 'uniqueItems')) guessed.push('array');
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf')) guessed.push('number');
  return [...new Set<JsonType>([...guessed, 'string', ...TYPES])];
}

class Sampler extends ContainerSampler {
  /** Characters of JSON generated so far, separators included. */
  private chars = 0;
  /** Work done in all: characters built (kept or given up), patterns tested, code points scanned. */
  private spent = 0;
  private readonly refs: SchemaRefs;
  private readonly expansions = new Map<unknown, Expansion>();

  constructor(
    private readonly root: Schema,
    private readonly options: SampleOptions,
  ) {
    super(options.properties === 'all');
    this.refs = new SchemaRefs(root);
  }

  sample(schemas: readonly unknown[], at: Place): unknown {
    if (at.depth > MAX_SAMPLE_DEPTH) {
      const why = `values would nest more than ${MAX_SAMPLE_DEPTH} levels deep (a $ref that never ends?)`;
      throw new SampleFailure(why, at.path);
    }
    try {
      const { parts, choices } = schemas.length === 1 ? this.expandOne(schemas[0]) : this.expand(schemas, new Set());
      return this.choose(parts, choices, at);
    } catch (error) {
      throw error instanceof SampleFailure ? located(error, at) : error;
    }
  }

  /** {@link expand} of one schema, once per schema: items and properties share their schema object. */
  private expandOne(schema: unknown): Expansion {
    let expansion = this.expansions.get(schema);
    if (!expansion) {
      expansion = this.expand([schema], new Set());
      this.expansions.set(schema, expansion);
    }
    return expansion;
  }

  /** The schemas, their `$ref`s and `allOf`s as one list of parts; each `anyOf`, `oneOf` and `if` as a choice to make. */
  expand(schemas: readonly unknown[], seen: Set<Schema>): Expansion {
    const parts: Schema[] = [];
    const choices: unknown[][][] = [];
    const visit = (schema: unknown): void => {
      if (schema === false) throw new SampleFailure('the schema is `false`: no value satisfies it');
      if (!isSchema(schema) || seen.has(schema)) return;
      seen.add(schema);
      this.spend(1);
      parts.push(schema);
      for (const key of ['$ref', '$dynamicRef', '$recursiveRef']) {
        const ref = schema[key];
        if (typeof ref === 'string') visit(this.refs.resolve(ref));
      }
      if (Array.isArray(schema['allOf'])) schema['allOf'].forEach(visit);
      for (const key of ['anyOf', 'oneOf']) {
        const branches = schema[key];
        if (Array.isArray(branches) && branches.length > 0) {
          choices.push((branches as unknown[]).map((branch) => [branch]));
        }
      }
      // The `then` branch with `if` itself holds whatever `if` says; else `else`, hoping `if` fails.
      if ('if' in schema && ('then' in schema || 'else' in schema)) {
        choices.push([[schema['if'], schema['then'] ?? true], [schema['else'] ?? true]]);
      }
    };
    schemas.forEach(visit);
    return { parts, choices };
  }

  /** One branch of each choice in turn, the next tried when a branch has no value. */
  private choose(parts: readonly Schema[], choices: readonly unknown[][][], at: Place): unknown {
    if (choices.length === 0) return this.flat(parts, at);
    const [first, ...rest] = choices;
    let failure: SampleFailure | undefined;
    for (const branch of this.ordered(first, parts, at)) {
      const mark = this.chars;
      try {
        const more = this.expand(branch, new Set(parts));
        return this.choose([...parts, ...more.parts], [...rest, ...more.choices], at);
      } catch (error) {
        if (!(error instanceof SampleFailure)) throw error;
        this.chars = mark;
        failure ??= located(error, at);
      }
    }
    throw failure ?? new SampleFailure('no branch of its anyOf, oneOf or if has a value', at.path);
  }

  /** Once only what is required is built: `null` branches first, then those that do not recurse. */
  private ordered(branches: unknown[][], parts: readonly Schema[], at: Place): unknown[][] {
    const minimal = at.minimal || at.depth >= FULL_DEPTH || parts.some((part) => this.isAncestor(part));
    if (!minimal) return branches;
    const rank = (branch: unknown[]): number => {
      const target = this.shallow(branch[0]);
      if (!isSchema(target)) return 1;
      if (target['type'] === 'null') return 0;
      return this.isAncestor(target) || parts.includes(target) ? 2 : 1;
    };
    return [...branches].sort((a, b) => rank(a) - rank(b));
  }

  /** A schema through its `$ref`s (a few hops). */
  private shallow(schema: unknown): unknown {
    let node = schema;
    for (let hop = 0; hop < 8 && isSchema(node) && typeof node['$ref'] === 'string'; hop++) {
      node = this.refs.resolve(node['$ref']);
    }
    return node;
  }

  private flat(parts: readonly Schema[], at: Place): unknown {
    const recursive = parts.some((part) => this.isAncestor(part));
    const place = recursive || at.depth >= FULL_DEPTH ? { ...at, minimal: true } : at;
    const given = this.given(parts, place);
    if (given.found) return this.leaf(given.value);
    let failure: SampleFailure | undefined;
    for (const type of typeOrder(parts, place.minimal)) {
      const mark = this.chars;
      try {
        return this.ofType(type, parts, place);
      } catch (error) {
        if (!(error instanceof SampleFailure)) throw error;
        this.chars = mark;
        failure ??= located(error, place);
      }
    }
    throw failure ?? new SampleFailure('its parts allow no type in common (their `type`s do not meet)', place.path);
  }

  /** The value a `const`, an `enum` or a scalar `default` gives, if it passes the rest of the schema. */
  private given(parts: readonly Schema[], at: Place): { found: boolean; value?: unknown } {
    const fits = (value: unknown) => acceptsValue(parts, value, this.work) && !this.ruledOut(parts, value);
    const fixed = parts.find((part) => 'const' in part);
    if (fixed) {
      if (fits(fixed['const'])) return { found: true, value: fixed['const'] };
      throw new SampleFailure(`its const ${JSON.stringify(fixed['const'])} does not satisfy the rest of it`, at.path);
    }
    const members = parts.find((part) => Array.isArray(part['enum']))?.['enum'] as unknown[] | undefined;
    if (members && members.length > 0) {
      for (let i = 0; i < members.length; i++) {
        const member = members[(at.variant + i) % members.length];
        if (fits(member)) return { found: true, value: member };
      }
      throw new SampleFailure('no member of its enum satisfies the rest of it', at.path);
    }
    const fallback = parts.find((part) => 'default' in part)?.['default'];
    const scalar = fallback === null || ['string', 'number', 'boolean'].includes(typeof fallback);
    if (at.variant === 0 && scalar && fits(fallback)) return { found: true, value: fallback };
    return { found: false };
  }

  private ofType(type: JsonType, parts: readonly Schema[], at: Place): unknown {
    if (type === 'object') return this.object(parts, at);
    if (type === 'array') return this.array(parts, at);
    // A long `minLength` is refused before the string is built.
    if (type === 'string')
      this.reserve(parts.reduce((most, part) => Math.max(most, Number(part['minLength']) || 0), 0));
    for (let variant = at.variant; variant < at.variant + NOT_TRIES; variant++) {
      const value = this.scalar(type, parts, variant);
      if (!this.ruledOut(parts, value)) return this.leaf(value);
    }
    throw new SampleFailure(`every ${type} the mock tries is ruled out by its \`not\``, at.path);
  }

  private scalar(type: JsonType, parts: readonly Schema[], variant: number): unknown {
    switch (type) {
      case 'string':
        return sampleString(parts, variant, this.work);
      case 'integer':
      case 'number':
        return sampleNumber(parts, type === 'integer', variant);
      case 'boolean':
        return variant % 2 === 0;
      default:
        return null;
    }
  }

  /**
   * Whether a part's `not` rules out a scalar value. Only a `not` without
   * alternatives inside is judged here (for a scalar, the string and number
   * keywords say it all); the final check judges the others.
   */
  private ruledOut(parts: readonly Schema[], value: unknown): boolean {
    return parts.some((part) => {
      if (!('not' in part)) return false;
      try {
        const inside = this.expand([part['not']], new Set());
        const simple = inside.choices.length === 0 && inside.parts.every((p) => !('not' in p));
        return simple && acceptsValue(inside.parts, value, this.work);
      } catch (error) {
        if (error instanceof SampleFailure) return false;
        throw error;
      }
    });
  }

  /** A value used as is (a `const`, an `enum` member, a `default`, a sample scalar), counted at its JSON size. */
  private leaf(value: unknown): unknown {
    this.charge((JSON.stringify(value) ?? '').length + 1);
    return value;
  }

  charge(chars: number, what = 'its nesting, sizes and constants'): void {
    this.reserve(chars, what);
    this.chars += chars;
    this.spend(chars);
  }

  /** Refuses at once when `chars` more would pass the limit. */
  reserve(chars: number, what = 'its nesting, sizes and constants'): void {
    if (this.chars + chars <= MAX_SAMPLE_CHARS) return;
    throw refusal(
      this.options.param,
      `The mock provider generates at most ${MAX_SAMPLE_CHARS} characters of JSON for a schema; ` +
        `this schema needs more (${what}).`,
    );
  }

  /** Marks where a branch starts, to give back what it built when it is abandoned. */
  mark(): number {
    return this.chars;
  }

  rewind(mark: number): void {
    this.chars = mark;
  }

  spend(units: number): void {
    this.spent += units;
    if (this.spent <= MAX_WORK) return;
    throw refusal(
      this.options.param,
      'The mock provider gives up on this schema: finding a value takes too many tries ' +
        '(alternatives of anyOf, oneOf, if, uniqueItems..., pattern tests).',
    );
  }
}

/** The failure, with the place it happened if it does not say yet. */
function located(failure: SampleFailure, at: Place): SampleFailure {
  return failure.path === undefined ? new SampleFailure(failure.message, at.path) : failure;
}

function refusal(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request_error', message, { param });
}

/** The gateway's own validator has the last word: a value it would refuse is never returned. */
function checkSample(root: Schema, value: unknown, param: string): void {
  const compiled = compileSchema(root);
  if (!compiled.ok) throw refusal(param, `${param} is not a valid JSON Schema: ${compiled.error}`);
  let valid: boolean;
  try {
    valid = compiled.validate(value);
  } catch (error) {
    if (error instanceof PatternInputTooLong) {
      throw refusal(param, `The mock provider cannot check the value it built for this schema: ${error.message}.`);
    }
    // A pattern V8 cannot run (it overflows the stack) is a schema the mock cannot meet, not a crash.
    if (!(error instanceof RangeError)) throw error;
    throw refusal(param, 'The mock provider cannot check a value against this schema (a pattern overflows the stack).');
  }
  if (valid) return;
  throw refusal(
    param,
    'The mock provider cannot build a value that satisfies this schema ' +
      `(its value fails: ${formatSchemaErrors(compiled.validate.errors)}).`,
  );
}

/**
 * A deterministic value for the schema, valid against it; or a 400 naming
 * `options.param` when the schema has no value the mock can build, or the value
 * would take more than {@link MAX_SAMPLE_CHARS} characters of JSON.
 */
export function sampleFromSchema(schema: unknown, options: SampleOptions): unknown {
  const root = isSchema(schema) ? schema : {};
  // Building a value runs the schema's patterns: one that can take exponential time is never run.
  const compiled = compileSchema(root);
  if (compiled.ok && compiled.unsafePattern) {
    throw refusal(options.param, `${options.param} cannot be checked: ${compiled.unsafePattern}.`);
  }
  const variant = options.variant ?? 0;
  try {
    return sampleOnce(root, options, variant);
  } catch (error) {
    if (variant === 0 || !(error instanceof GatewayError)) throw error;
    return sampleOnce(root, options, 0);
  }
}

function sampleOnce(root: Schema, options: SampleOptions, variant: number): unknown {
  const sampler = new Sampler(root, options);
  let value: unknown;
  try {
    value = sampler.sample([root], { path: '$', depth: 0, minimal: false, variant });
  } catch (error) {
    if (error instanceof RangeError) {
      throw refusal(options.param, 'The mock provider cannot build a value for this schema: it nests too deeply.');
    }
    if (!(error instanceof SampleFailure)) throw error;
    const where = error.path ? `at ${error.path}: ` : '';
    throw refusal(options.param, `The mock provider cannot build a value for this schema (${where}${error.message}).`);
  }
  checkSample(root, value, options.param);
  return value;
}
