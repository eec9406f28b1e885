import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { LRUCache } from 'lru-cache';
import { GatewayError } from './errors';
import { nestsDeeperThan } from './objects';
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
type Compiled = { ok: true; validate: ValidateFunction; unsafePattern?: string } | { ok: false; error: string };

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
      logger: false as const,
      code: { regExp: boundedRegExp },
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

function compileFresh(schema: Record<string, unknown>, draft: Draft): Compiled {
  const ajv = ajvFor(draft);
  // `$schema` picked the draft; ajv would otherwise insist on knowing that exact URI.
  const { $schema: _ignored, ...body } = schema;
  try {
    if (!ajv.validateSchema(body)) return { ok: false, error: formatSchemaErrors(ajv.errors) };
    const validate = ajv.compile('$id' in body ? body : { $id: ROOT_ID, ...body });
    const unsafePattern = unsafePatternIn(body, '$');
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

/** Keywords whose values are data, not schemas: a `pattern` key in them is no pattern. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);

/**
 * Where the schema has a pattern (`pattern`, a key of `patternProperties`) that can take
 * exponential time to run, and why, or `undefined`. (The schema nests at most
 * {@link MAX_SCHEMA_DEPTH} levels: the walk recurses no deeper.)
 */
function unsafePatternIn(node: unknown, path: string): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) {
      const found = unsafePatternIn(item, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(node)) {
    if (DATA_KEYWORDS.has(key)) continue;
    const at = `${path}.${key}`;
    const patterns =
      key === 'pattern' && typeof value === 'string'
        ? [value]
        : key === 'patternProperties' && isObject(value)
          ? Object.keys(value)
          : [];
    for (const pattern of patterns) {
      const why = exponentialBecause(pattern);
      if (why) return `the pattern ${JSON.stringify(pattern)} at ${at} can take exponential time to check: ${why}`;
    }
    const found = unsafePatternIn(value, at);
    if (found) return found;
  }
  return undefined;
}

/** The compiled validator of a schema (cached by identity, then by content), or why it is not a schema. */
export function compileSchema(schema: unknown): Compiled {
  if (!isObject(schema)) return { ok: false, error: 'must be a JSON Schema object' };
  const known = byObject.get(schema);
  if (known) return known;
  if (nestsDeeperThan(schema, MAX_SCHEMA_DEPTH)) {
    const tooDeep = {
      ok: false as const,
      error: `it nests objects and arrays more than ${MAX_SCHEMA_DEPTH} levels deep`,
    };
    byObject.set(schema, tooDeep);
    return tooDeep;
  }
  const draft = draftOf(schema);
  const key = `${draft}\n${JSON.stringify(schema)}`;
  let compiled = byText.get(key);
  if (!compiled) {
    compiled = compileFresh(schema, draft);
    byText.set(key, compiled);
  }
  byObject.set(schema, compiled);
  return compiled;
}

/** How a request uses a schema. */
export interface SchemaUse {
  /**
   * The gateway may check values against it (structured output, `strict` tools):
   * a pattern that can take exponential time to run is then refused.
   */
  checksValues?: boolean;
}

/**
 * Throws a 400 naming `param` (`tools[2].function.parameters`,
 * `response_format.json_schema.schema`...) when `schema` is not a valid JSON Schema,
 * or, for a schema values are checked against, has a pattern the gateway will not run.
 */
export function validateJsonSchemaDefinition(schema: unknown, param: string, use: SchemaUse = {}): void {
  const compiled = compileSchema(schema);
  if (!compiled.ok) {
    throw new GatewayError('invalid_request_error', `${param} is not a valid JSON Schema: ${compiled.error}`, {
      param,
    });
  }
  if (use.checksValues && compiled.unsafePattern) throw unsafePatternError(param, compiled.unsafePattern);
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
  if (!compiled.ok) {
    throw new GatewayError('invalid_request_error', `schema is not a valid JSON Schema: ${compiled.error}`, {
      param: 'schema',
    });
  }
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
