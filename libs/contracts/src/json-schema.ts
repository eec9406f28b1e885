import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { LRUCache } from 'lru-cache';
import { GatewayError } from './errors';
import { isObject, nestsDeeperThan } from './objects';
import { PatternInputTooLong, type SchemaPattern, compilePattern } from './pattern-engine';
import { catastrophicPattern } from './regex-safety';

/**
 * JSON Schema compilation and validation (ajv), with compiled validators cached:
 * the same tool and response schemas arrive on request after request. Here, at
 * the bottom of the libs, so that the request pipeline and the mock provider
 * (which checks the values it builds from a schema) share one configuration.
 */

type Draft = '2020-12' | '2019-09' | 'draft-07';

/**
 * A compiled schema, or why it is none. `unsafePattern` says why one of its
 * patterns is not run: one that only V8's backtracking engine can run (see
 * pattern-engine.ts) and that can take exponential time there (see
 * {@link catastrophicPattern}). A schema the gateway checks values against must
 * not have one.
 */
type Compilation =
  | { ok: true; validate: ValidateFunction; unsafePattern?: string }
  /** `tooLarge`: refused for its size (see {@link SchemaBudget}), not for what it says. */
  | { ok: false; error: string; tooLarge?: true };
type Compiled = Compilation & { size: SchemaSize };

/**
 * What compiling a schema costs ajv: its objects (each a subschema or a map of
 * them), all its values (a `required` name, a boolean subschema...), and its
 * patterns (`pattern`, `patternProperties` keys). What `enum`, `const`,
 * `default` and `examples` hold is data, and not counted.
 */
export interface SchemaSize {
  objects: number;
  values: number;
  patterns: number;
}

/**
 * What the schemas of one request may hold together (see {@link SchemaBudget}).
 * ajv's compilation is synchronous: every other request waits while it runs. It
 * costs ~0.04 ms per object on this machine, up to ~20 µs per other value, and
 * more per pattern as patterns add up (ajv copies the code declaring the ones
 * before it for each: 1,000 took ~0.3 s, 3,000 ~3.5 s). Unbounded, one 10 MiB
 * body of small properties or patterns held the gateway for minutes. The limits
 * stay above the largest schema OpenAI accepts (5,000 properties); just within
 * them, a schema compiles in 0.3-1.1 s by its shape (`npm run bench:schemas`).
 */
export const SCHEMA_LIMITS: Readonly<SchemaSize> = { objects: 10_000, values: 50_000, patterns: 1_000 };

const NOTHING: Readonly<SchemaSize> = { objects: 0, values: 0, patterns: 0 };

/**
 * The schemas of one request, counted against {@link SCHEMA_LIMITS} together as
 * each is checked: a schema that takes them past a limit is refused before it
 * is compiled. Cached schemas count too, so a request gets the same answer
 * whatever the cache holds.
 */
export class SchemaBudget {
  private readonly spent: SchemaSize = { objects: 0, values: 0, patterns: 0 };

  /** Why `size` does not fit in what is left, or `undefined` after taking it. */
  take(size: SchemaSize): string | undefined {
    const over = overLimit(size, this.spent);
    if (over) return over;
    this.spent.objects += size.objects;
    this.spent.values += size.values;
    this.spent.patterns += size.patterns;
    return undefined;
  }
}

const LIMIT_NOUNS: Record<keyof SchemaSize, string> = {
  objects: 'schema objects',
  values: 'values',
  patterns: 'patterns',
};

/** Why `size` on top of `spent` passes a limit, or `undefined`. */
function overLimit(size: SchemaSize, spent: SchemaSize = NOTHING): string | undefined {
  for (const key of ['objects', 'patterns', 'values'] as const) {
    if (spent[key] + size[key] <= SCHEMA_LIMITS[key]) continue;
    const noun = LIMIT_NOUNS[key];
    const others = spent[key] > 0 ? ` (with the ${spent[key].toLocaleString('en-US')} of the schemas before it)` : '';
    return (
      `it holds ${size[key].toLocaleString('en-US')} ${noun}${others}, and the JSON Schemas of one request may ` +
      `hold at most ${SCHEMA_LIMITS[key].toLocaleString('en-US')} ${noun} together`
    );
  }
  return undefined;
}

/** Errors listed in one message; the rest are counted. */
const MAX_LISTED_ERRORS = 8;
/**
 * Objects and arrays nested deeper than this are refused before anything walks
 * the schema: ajv, the prompts that embed it, the token estimate all recurse,
 * and would exhaust the stack a few hundred levels down. Real schemas stay far below.
 */
export const MAX_SCHEMA_DEPTH = 128;

/**
 * The base URI of a schema without `$id`. ajv resolves a reference to the root
 * (`"$ref": "#"`, how OpenAI writes recursive schemas) only against a base URI,
 * and `addUsedSchema: false` (below) keeps it from registering the empty one.
 */
const ROOT_ID = 'https://gateway.invalid/schema';

/**
 * How many schemas one ajv instance compiles before a fresh one takes over. ajv
 * keeps every schema it compiled (its cache, and its code's scope), so one
 * instance would grow with each distinct schema clients ever sent; a retired
 * instance is freed once the validators it made have left the caches below.
 */
const COMPILES_PER_INSTANCE = 1_000;

/** ajv's `code.regExp`: each pattern on the engine that runs it in bounded time (see pattern-engine.ts). */
const boundedRegExp = Object.assign((pattern: string, flags: string) => compilePattern(pattern, flags), {
  code: 'boundedRegExp',
});

const instances = new Map<Draft, { ajv: Ajv; compiles: number }>();
const byObject = new WeakMap<object, Compiled>();
/** Bounded by count and by schema text size (a few huge schemas must not pin much memory). */
const byText = new LRUCache<string, Compiled>({
  max: 500,
  maxSize: 8_000_000,
  sizeCalculation: (_v, key) => key.length,
});

/** The draft's ajv instance for one more compilation (a fresh one every {@link COMPILES_PER_INSTANCE}). */
function ajvFor(draft: Draft): Ajv {
  let instance = instances.get(draft);
  if (!instance || instance.compiles >= COMPILES_PER_INSTANCE) {
    // Lenient about keywords from other vocabularies (OpenAPI's `nullable`, `example`...):
    // real tool schemas carry them. `addUsedSchema: false` lets unrelated schemas share an `$id`.
    const options = {
      strict: false,
      allErrors: true,
      addUsedSchema: false,
      // A required property is one the value has itself: `constructor` is no object's until it says so.
      ownProperties: true,
      logger: false as const,
      // ajv's optimisation pass made compiling 1.5-2.2x slower (`npm run bench:schemas`: a small schema
      // 0.51 ms against 0.35, the slowest within the limits 2.1 s against 1.1) and the validators no faster.
      code: { regExp: boundedRegExp, optimize: false },
    };
    const ajv =
      draft === '2020-12' ? new Ajv2020(options) : draft === '2019-09' ? new Ajv2019(options) : new Ajv(options);
    addFormats(ajv);
    instance = { ajv, compiles: 0 };
    instances.set(draft, instance);
  }
  instance.compiles++;
  return instance.ajv;
}

/**
 * Whether a value passes a `format` as the validator checks it (ajv-formats' full
 * mode); `undefined` for a format the validator does not know, and so ignores,
 * or one that is not about this kind of value (`int32` for a string).
 */
export function checkFormat(format: string, value: string | number): boolean | undefined {
  if (!Object.hasOwn(fullFormats, format)) return undefined;
  const known = fullFormats[format as keyof typeof fullFormats];
  const definition = typeof known === 'object' && !(known instanceof RegExp) ? known : { validate: known };
  const type = 'type' in definition && definition.type === 'number' ? 'number' : 'string';
  if (typeof value !== type) return undefined;
  const validate = definition.validate;
  if (validate === true) return true;
  if (validate instanceof RegExp) return validate.test(String(value));
  return typeof validate === 'function' ? (validate as (v: string | number) => boolean)(value) : undefined;
}

/** By `$schema`; none means 2020-12 (OpenAI's dialect). Older drafts are read as draft-07, their superset. */
function draftOf(schema: Record<string, unknown>): Draft {
  const uri = schema['$schema'];
  if (typeof uri !== 'string') return '2020-12';
  if (uri.includes('2020-12')) return '2020-12';
  if (uri.includes('2019-09')) return '2019-09';
  return 'draft-07';
}

/** `/items/0/name` as `$.items[0].name`: readable by people and models alike. */
function jsonPath(pointer: string): string {
  if (!pointer) return '$';
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, key) => (/^\d+$/.test(key) ? `${path}[${key}]` : `${path}.${key}`), '$');
}

function describe(error: ErrorObject): string {
  const at = jsonPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${at} must not have the additional property '${String(params['additionalProperty'])}'`;
  }
  if (error.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    return `${at} must be one of ${params['allowedValues'].map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${at} ${error.message ?? 'is invalid'}`;
}

/** One line per distinct problem (ajv reports an `anyOf` failure once per branch as well). */
export function formatSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const lines = [...new Set((errors ?? []).filter((e) => e.keyword !== 'anyOf').map(describe))];
  if (lines.length === 0) return 'invalid';
  const listed = lines.slice(0, MAX_LISTED_ERRORS).join('; ');
  const more = lines.length - MAX_LISTED_ERRORS;
  return more > 0 ? `${listed}; and ${more} more` : listed;
}

function compileFresh(schema: Record<string, unknown>, draft: Draft): Compilation {
  const ajv = ajvFor(draft);
  // `$schema` picked the draft; ajv would otherwise insist on knowing that exact URI.
  const { $schema: _ignored, ...body } = schema;
  try {
    if (!ajv.validateSchema(body)) return { ok: false, error: formatSchemaErrors(ajv.errors) };
    const validate = ajv.compile('$id' in body ? body : { $id: ROOT_ID, ...body });
    const unsafePattern = findPattern(body, '$', unsafePatternAt);
    return unsafePattern ? { ok: true, validate, unsafePattern } : { ok: true, validate };
  } catch (err) {
    // Within the depth limit, a long enough chain of `$ref`s still recurses past the stack in ajv.
    if (err instanceof RangeError) return { ok: false, error: 'its references nest too deeply to be checked' };
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: message.replace(` from id ${ROOT_ID}`, '') };
  }
}

/**
 * Why `pattern` can take exponential time to run here, or `undefined`. Only one
 * V8 runs can (see pattern-engine.ts), and only if the analysis says so.
 */
function exponentialBecause(pattern: string): string | undefined {
  let compiled: SchemaPattern;
  try {
    compiled = compilePattern(pattern);
  } catch {
    // Not a pattern: ajv reports it where it compiles it, and runs it nowhere else.
    return undefined;
  }
  if (compiled.engine === 'linear') return undefined;
  const why = catastrophicPattern(pattern);
  return why && `${why}; it has ${compiled.backtrackingBecause}, so the linear-time engine cannot run it`;
}

/** Where and why `pattern` can take exponential time to run, or `undefined`. */
function unsafePatternAt(pattern: string, at: string): string | undefined {
  const why = exponentialBecause(pattern);
  return why && `the pattern ${JSON.stringify(pattern)} at ${at} can take exponential time to check: ${why}`;
}

/** Keywords whose values are data, not schemas: a `pattern` key in them is no pattern. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);
/**
 * Keywords whose values map names to schemas: a property named `enum` is a
 * schema like any other, and the keys of `patternProperties` are patterns.
 */
const SCHEMA_MAPS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
]);

/**
 * Calls `visit` with each pattern of a schema (`pattern`, a key of
 * `patternProperties`) and where it is, until `visit` says something (why the
 * pattern is refused), and returns that. Keywords it does not know are walked as schemas. (The schema
 * nests at most {@link MAX_SCHEMA_DEPTH} levels: the walk recurses no deeper.)
 */
function findPattern(
  node: unknown,
  path: string,
  visit: (pattern: string, at: string) => string | undefined,
): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const found = findPattern(node[i], `${path}[${i}]`, visit);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key in node) {
    if (DATA_KEYWORDS.has(key)) continue;
    const value = (node as Record<string, unknown>)[key];
    const at = `${path}.${key}`;
    if (key === 'pattern' && typeof value === 'string') {
      const found = visit(value, at);
      if (found !== undefined) return found;
    } else if (SCHEMA_MAPS.has(key) && isObject(value)) {
      for (const name in value) {
        const found =
          (key === 'patternProperties' ? visit(name, at) : undefined) ??
          findPattern(value[name], `${at}.${name}`, visit);
        if (found !== undefined) return found;
      }
    } else {
      const found = findPattern(value, at, visit);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Adds to `size` what a schema holds (walked as {@link findPattern} walks it). */
function measure(node: unknown, size: SchemaSize): void {
  size.values++;
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) measure(node[i], size);
    return;
  }
  size.objects++;
  for (const key in node) {
    if (DATA_KEYWORDS.has(key)) continue;
    const value = (node as Record<string, unknown>)[key];
    if (key === 'pattern' && typeof value === 'string') size.patterns++;
    if (key === 'patternProperties' && isObject(value)) size.patterns += Object.keys(value).length;
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      size.values++;
      size.objects++;
      for (const name in value) measure(value[name], size);
    } else {
      measure(value, size);
    }
  }
}

/** Where a schema's definitions live: they stay at the root when it is nested ({@link schemaAsProperty}). */
const DEFINITIONS_REF = /^#\/(?:\$defs|definitions)(?:\/|$)/;

/**
 * `schema` as the one required property `property` of a closed object, for a
 * value whose schema does not describe an object where a provider takes only
 * objects (Anthropic's tools; OpenAI's strict mode). Its `$defs`, `definitions`,
 * `$id` and `$schema` stay at the root, and its `$ref`s to itself (`#`,
 * `#/items`...) point into the property; other references are kept.
 */
export function schemaAsProperty(schema: Record<string, unknown>, property: string): Record<string, unknown> {
  const at = `#/properties/${property.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  const repointed = (ref: string): string =>
    ref === '#' ? at : ref.startsWith('#/') && !DEFINITIONS_REF.test(ref) ? at + ref.slice(1) : ref;
  const root: Record<string, unknown> = {};
  const inner: Record<string, unknown> = {};
  for (const key in schema) {
    const rooted = key === '$defs' || key === 'definitions' || key === '$id' || key === '$schema';
    ownSet(rooted ? root : inner, key, schema[key]);
  }
  const wrapped = repoint(root, repointed) as Record<string, unknown>;
  const properties = {};
  ownSet(properties, property, repoint(inner, repointed));
  return Object.assign(wrapped, { type: 'object', properties, required: [property], additionalProperties: false });
}

/** A copy of a schema with its `$ref`s mapped by `moved` (walked as {@link findPattern} walks it). */
function repoint(node: unknown, moved: (ref: string) => string): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map((item) => repoint(item, moved));
  const copy: Record<string, unknown> = {};
  for (const key in node) {
    const value = (node as Record<string, unknown>)[key];
    if (DATA_KEYWORDS.has(key)) ownSet(copy, key, value);
    else if (key === '$ref' && typeof value === 'string') ownSet(copy, key, moved(value));
    else if (SCHEMA_MAPS.has(key) && isObject(value)) {
      const map: Record<string, unknown> = {};
      for (const name in value) ownSet(map, name, repoint(value[name], moved));
      ownSet(copy, key, map);
    } else ownSet(copy, key, repoint(value, moved));
  }
  return copy;
}

/** `target[key] = value` as an own property, even for `__proto__` (a JSON key like any other). */
function ownSet(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** What `schema` holds (it nests at most {@link MAX_SCHEMA_DEPTH} levels: the walk recurses no deeper). */
export function schemaSize(schema: Record<string, unknown>): SchemaSize {
  const size = { objects: 0, values: 0, patterns: 0 };
  measure(schema, size);
  return size;
}

/**
 * The compiled validator of a schema (cached by identity, then by content), or
 * why it is not a schema, or too large to compile: alone, or with what `budget`
 * has taken already (the schema then counts against it).
 */
export function compileSchema(schema: unknown, budget?: SchemaBudget): Compiled {
  if (!isObject(schema)) return { ok: false, error: 'must be a JSON Schema object', size: NOTHING };
  const known = byObject.get(schema);
  if (known) return charged(known, budget);
  if (nestsDeeperThan(schema, MAX_SCHEMA_DEPTH)) {
    const error = `it nests objects and arrays more than ${MAX_SCHEMA_DEPTH} levels deep`;
    return remember(schema, undefined, { ok: false, error, size: NOTHING });
  }
  const draft = draftOf(schema);
  const key = `${draft}\n${JSON.stringify(schema)}`;
  const cached = byText.get(key);
  if (cached) return charged(remember(schema, undefined, cached), budget);
  const size = schemaSize(schema);
  const tooLarge = overLimit(size);
  if (tooLarge) return remember(schema, key, { ok: false, error: tooLarge, tooLarge: true, size });
  // Refused for what came before it in this request, not for itself: not remembered.
  const over = budget?.take(size);
  if (over) return { ok: false, error: over, tooLarge: true, size };
  return remember(schema, key, Object.assign(compileFresh(schema, draft), { size }));
}

/** `compiled`, or the refusal if the request cannot afford it too (a schema refused costs nothing). */
function charged(compiled: Compiled, budget: SchemaBudget | undefined): Compiled {
  const over = compiled.ok ? budget?.take(compiled.size) : undefined;
  return over ? { ok: false, error: over, tooLarge: true, size: compiled.size } : compiled;
}

function remember(schema: object, key: string | undefined, compiled: Compiled): Compiled {
  byObject.set(schema, compiled);
  if (key !== undefined) byText.set(key, compiled);
  return compiled;
}

/** How a request uses a schema. */
export interface SchemaUse {
  /**
   * The gateway may check values against it (structured output, `strict` tools):
   * a pattern that can take exponential time to run is then refused.
   */
  checksValues?: boolean;
  /** What the request's other schemas have taken of {@link SCHEMA_LIMITS}; this one counts against it too. */
  budget?: SchemaBudget;
}

/**
 * Throws a 400 naming `param` (`tools[2].function.parameters`,
 * `response_format.json_schema.schema`...) when `schema` is not a valid JSON Schema,
 * or, for a schema values are checked against, has a pattern the gateway will not run.
 */
export function validateJsonSchemaDefinition(schema: unknown, param: string, use: SchemaUse = {}): void {
  const compiled = compileSchema(schema, use.budget);
  if (!compiled.ok) throw schemaError(param, compiled);
  if (use.checksValues && compiled.unsafePattern) throw unsafePatternError(param, compiled.unsafePattern);
}

function schemaError(param: string, refused: { error: string; tooLarge?: true }): GatewayError {
  const what = refused.tooLarge ? 'is too large for the gateway to check' : 'is not a valid JSON Schema';
  return new GatewayError('invalid_request_error', `${param} ${what}: ${refused.error}`, { param });
}

function unsafePatternError(param: string, why: string): GatewayError {
  return new GatewayError('invalid_request_error', `${param} cannot be checked: ${why}.`, { param });
}

export type SchemaValidation = { ok: true } | { ok: false; errors: string };

/**
 * Checks a value against a schema; `errors` lists the problems as
 * `$.path message` (for a client, or for a repair prompt). An invalid schema, or
 * one with a pattern the gateway will not run, throws the same 400 as
 * {@link validateJsonSchemaDefinition} (param `schema`). A text longer than its
 * pattern's limit ({@link SchemaPattern.maxInputChars}) fails the check.
 */
export function validateAgainst(schema: unknown, value: unknown): SchemaValidation {
  const compiled = compileSchema(schema);
  if (!compiled.ok) throw schemaError('schema', compiled);
  if (compiled.unsafePattern) throw unsafePatternError('schema', compiled.unsafePattern);
  let valid: boolean;
  try {
    valid = compiled.validate(value);
  } catch (error) {
    if (error instanceof PatternInputTooLong) return { ok: false, errors: error.message };
    // A pattern such as `(a?){1000000000}` compiles, then overflows V8's stack when it runs.
    if (!(error instanceof RangeError)) throw error;
    throw new GatewayError(
      'invalid_request_error',
      `schema cannot be checked: ${error.message} while checking a value`,
      {
        param: 'schema',
      },
    );
  }
  return valid ? { ok: true } : { ok: false, errors: formatSchemaErrors(compiled.validate.errors) };
}
