/**
 * `npm run bench:schemas`: how long the event loop is held while the gateway
 * compiles a JSON Schema it has not seen before (ajv compiles synchronously),
 * for a small tool schema and for schemas of several shapes just within
 * `SCHEMA_LIMITS`, and how long one just past them takes to be refused. Each
 * schema is new to the process (the compile cache is keyed by content), timed
 * with `performance.now()` around `compileSchema`, the function every request's
 * schemas go through. See the README (Structured output).
 */
import { SCHEMA_LIMITS, type SchemaSize, compileSchema, schemaSize } from '@app/contracts';

type Shape = (i: number) => unknown;

/** Property schemas of several kinds; the limits are reached by repeating one. */
const SHAPES: Record<string, Shape> = {
  'plain properties': (i) => ({ type: i % 2 ? 'string' : 'integer', description: `field ${i}` }),
  'arrays of objects': () => ({ type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } }),
  'strings with a format': () => ({ type: 'string', minLength: 1, maxLength: 10, format: 'email' }),
  'numbers with bounds': () => ({ type: 'number', minimum: 0, maximum: 10, multipleOf: 0.5, exclusiveMaximum: 11 }),
  'anyOf with null': () => ({ anyOf: [{ type: 'string' }, { type: 'null' }] }),
  patterns: (i) => ({ type: 'string', pattern: `^a${i}[a-z]*$` }),
};

let serial = 0;

/** An object schema with `count` properties of `shape`, new to the cache (its title differs from every other). */
function schemaOf(shape: Shape, count: number): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) properties[`p${i}`] = shape(i);
  return { title: `bench ${serial++}`, type: 'object', properties };
}

/** The largest property count of `shape` whose schema is within the limits (by bisection on the count). */
function largestWithin(shape: Shape): number {
  let low = 1;
  let high = SCHEMA_LIMITS.objects;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (sizeWithin(schemaOf(shape, mid))) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Whether a schema is within the limits, found without compiling it. */
function sizeWithin(schema: Record<string, unknown>): boolean {
  const size = schemaSize(schema);
  return (Object.keys(size) as Array<keyof SchemaSize>).every((key) => size[key] <= SCHEMA_LIMITS[key]);
}

function timed(schema: unknown): { ms: number; ok: boolean; error?: string } {
  const start = performance.now();
  const result = compileSchema(schema);
  const ms = performance.now() - start;
  return result.ok ? { ms, ok: true } : { ms, ok: false, error: result.error };
}

function main(): void {
  // The first compilation builds ajv's instance and its formats: not a schema's cost.
  compileSchema(schemaOf(SHAPES['plain properties'], 3));
  const small: number[] = [];
  for (let i = 0; i < 200; i++) small.push(timed(schemaOf(SHAPES['plain properties'], 4)).ms);
  small.sort((a, b) => a - b);
  process.stdout.write(
    `Limits: ${SCHEMA_LIMITS.objects} schema objects, ${SCHEMA_LIMITS.values} values, ${SCHEMA_LIMITS.patterns} patterns per request.\n` +
      `A new 4-property tool schema: median ${(small[100] * 1000).toFixed(0)} µs to compile (200 schemas).\n\n` +
      '| shape | properties | compile ms (within the limits) | refusal ms (one more property past them) |\n|---|---|---|---|\n',
  );
  for (const [name, shape] of Object.entries(SHAPES)) {
    const within = largestWithin(shape);
    const accepted = timed(schemaOf(shape, within));
    if (!accepted.ok) throw new Error(`${name}: ${within} properties refused: ${accepted.error}`);
    // Past the limits by more than one property where one adds too little to pass them.
    let past = within + 1;
    while (sizeWithin(schemaOf(shape, past))) past++;
    const refused = timed(schemaOf(shape, past));
    if (refused.ok) throw new Error(`${name}: ${past} properties accepted`);
    process.stdout.write(`| ${name} | ${within} | ${accepted.ms.toFixed(0)} | ${refused.ms.toFixed(1)} |\n`);
  }
}

main();
