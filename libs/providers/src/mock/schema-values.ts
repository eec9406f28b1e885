import { checkFormat } from '@app/contracts';
import { codePoints, testPattern, type Work } from './sample-pattern';

/** Shared pieces of the mock's sample builder: schema reading and the checks it makes on values. */

export type Schema = Record<string, unknown>;

/** JSON Schema's types; `integer` is a `number` too. */
export const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;
export type JsonType = (typeof TYPES)[number];

/**
 * This part of the schema has no value the builder can find: the caller tries
 * another branch, type or property, or the whole schema is refused with a 400
 * carrying this message.
 */
export class SampleFailure extends Error {
  constructor(
    message: string,
    /** Where in the value (`$.items[0].name`), once known. */
    readonly path?: string,
  ) {
    super(message);
  }
}

export function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function numberOf(schema: Schema, key: string): number | undefined {
  const value = schema[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The largest of a numeric keyword over all parts (`minLength`, `minItems`...), or `fallback`. */
export function largest(parts: readonly Schema[], key: string, fallback: number): number {
  return parts.reduce((most, part) => Math.max(most, numberOf(part, key) ?? most), fallback);
}

/** The smallest of a numeric keyword over all parts (`maxLength`, `maxItems`...), or `fallback`. */
export function smallest(parts: readonly Schema[], key: string, fallback: number): number {
  return parts.reduce((least, part) => Math.min(least, numberOf(part, key) ?? least), fallback);
}

/** The strings of a keyword over all parts (`pattern`, `format`). */
export function stringsOf(parts: readonly Schema[], key: string): string[] {
  return parts.map((part) => part[key]).filter((value): value is string => typeof value === 'string');
}

function declaredTypes(schema: Schema): JsonType[] | undefined {
  const type = schema['type'];
  const list = typeof type === 'string' ? [type] : Array.isArray(type) ? type : undefined;
  return list?.filter((t): t is JsonType => (TYPES as readonly string[]).includes(String(t)));
}

/**
 * The types every part allows, in the order the first typed part lists them;
 * `undefined` when no part says. `number` and `integer` meet at `integer`.
 */
export function allowedTypes(parts: readonly Schema[]): JsonType[] | undefined {
  let allowed: JsonType[] | undefined;
  for (const part of parts) {
    const types = declaredTypes(part);
    if (!types) continue;
    if (!allowed) {
      allowed = types;
      continue;
    }
    const meet = (t: JsonType): JsonType | undefined => {
      if (types.includes(t)) return t;
      if (t === 'number' && types.includes('integer')) return 'integer';
      if (t === 'integer' && types.includes('number')) return 'integer';
      return undefined;
    };
    allowed = [...new Set(allowed.map(meet).filter((t): t is JsonType => t !== undefined))];
  }
  return allowed;
}

/** The JSON type of a value, as `type` checks it (an integral number is both). */
export function hasType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isSchema(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

/** Deep equality as JSON Schema has it (`const`, `enum`, `uniqueItems`): key order does not matter. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** JSON text with object keys sorted: equal for values JSON Schema calls equal. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isSchema(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** ajv's own test for `multipleOf` (without `multipleOfPrecision`), floating point and all. */
export function isMultipleOf(value: number, step: number): boolean {
  const ratio = value / step;
  return ratio === Number.parseInt(String(ratio), 10);
}

function stringFits(part: Schema, text: string, work: Work): boolean {
  const length = codePoints(text);
  if (length < (numberOf(part, 'minLength') ?? 0) || length > (numberOf(part, 'maxLength') ?? Infinity)) return false;
  const pattern = part['pattern'];
  if (typeof pattern === 'string' && !testPattern(pattern, text, work)) return false;
  const format = part['format'];
  return typeof format !== 'string' || checkFormat(format, text) !== false;
}

function numberFits(part: Schema, value: number): boolean {
  const [min, max] = [numberOf(part, 'minimum'), numberOf(part, 'maximum')];
  const [above, below] = [numberOf(part, 'exclusiveMinimum'), numberOf(part, 'exclusiveMaximum')];
  const step = numberOf(part, 'multipleOf');
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) return false;
  if ((above !== undefined && value <= above) || (below !== undefined && value >= below)) return false;
  if (step !== undefined && step > 0 && !isMultipleOf(value, step)) return false;
  const format = part['format'];
  return typeof format !== 'string' || checkFormat(format, value) !== false;
}

/**
 * Whether a given value (a `const`, an `enum` member, a `default`) passes every
 * part's type, `const`, `enum`, string and number keywords. Keywords about
 * objects and arrays are not looked at here: the final check covers them.
 */
export function acceptsValue(parts: readonly Schema[], value: unknown, work: Work): boolean {
  return parts.every((part) => {
    const types = declaredTypes(part);
    if (types && !types.some((type) => hasType(value, type))) return false;
    if ('const' in part && !sameJson(part['const'], value)) return false;
    const members = part['enum'];
    if (Array.isArray(members) && !members.some((member) => sameJson(member, value))) return false;
    if (typeof value === 'string') return stringFits(part, value, work);
    if (typeof value === 'number') return numberFits(part, value);
    return true;
  });
}
