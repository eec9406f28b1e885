import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GatewayError } from './errors';
import { describe, expect, it } from 'vitest';
import {
  SCHEMA_LIMITS,
  SchemaBudget,
  checkFormat,
  compileSchema,
  schemaAsProperty,
  validateAgainst,
  validateJsonSchemaDefinition,
} from './json-schema';
import { MAX_PATTERN_INPUT_CHARS, compilePattern } from './pattern-engine';
import { EXPONENTIAL_PATTERNS, FORMERLY_REFUSED } from './schema-patterns.fixtures';

const weather = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 1 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 14 },
  },
  required: ['city'],
  additionalProperties: false,
};

/** `{type: object, properties: {a: ...}}`, `levels` times over. */
function nested(levels: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < levels; i++) schema = { type: 'object', properties: { a: schema } };
  return schema;
}

/** `$defs` a0 -> a1 -> ... each a `$ref` to the next: shallow JSON, deep for ajv. */
function refChain(length: number): Record<string, unknown> {
  const defs: Record<string, unknown> = { [`a${length}`]: { type: 'string' } };
  for (let i = 0; i < length; i++) defs[`a${i}`] = { $ref: `#/$defs/a${i + 1}` };
  return { $defs: defs, type: 'object', properties: { x: { $ref: '#/$defs/a0' } } };
}

/** Recursive, as OpenAI documents it: `"$ref": "#"` is the whole schema again. */
const tree = {
  type: 'object',
  properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
  required: ['name'],
};

function thrown(fn: () => void): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('validateJsonSchemaDefinition', () => {
  it.each([
    ['an object schema (2020-12 by default)', weather],
    ['an empty schema', {}],
    [
      'OpenAPI-style extra keywords (nullable, example, x-*)',
      { type: 'object', nullable: true, example: {}, 'x-foo': 1 },
    ],
    [
      'a draft-07 schema from zod-to-json-schema',
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        definitions: { a: { type: 'string' } },
        properties: { b: { $ref: '#/definitions/a' } },
      },
    ],
    ['a 2019-09 schema', { $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', $defs: {} }],
    [
      'a 2020-12 schema with $defs and $ref',
      {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $defs: { id: { type: 'string' } },
        type: 'object',
        properties: { id: { $ref: '#/$defs/id' } },
      },
    ],
    ['an unknown format (ignored)', { type: 'string', format: 'not-a-format' }],
    ['a draft-04 schema (read as draft-07)', { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }],
    ['a recursive schema ($ref to the root)', tree],
    [
      'a recursive draft-07 schema ($ref to the root)',
      { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: { $ref: '#' } },
    ],
    ['a recursive schema with its own $id', { $id: 'https://example.com/tree', ...tree }],
  ])('accepts %s', (_name, schema) => {
    expect(() => validateJsonSchemaDefinition(schema, 'tools[0].function.parameters')).not.toThrow();
  });

  it.each([
    ['an unknown type', { type: 'object', properties: { a: { type: 'strng' } } }, '$.properties.a.type'],
    ['required that is not an array', { type: 'object', required: 'city' }, '$.required must be array'],
    ['properties that is an array', { type: 'object', properties: [] }, '$.properties must be object'],
    [
      'an unresolvable $ref',
      { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } },
      "can't resolve reference",
    ],
    ['a negative minLength', { type: 'string', minLength: -1 }, '$.minLength must be >= 0'],
    ['a string', 'object', 'must be a JSON Schema object'],
    ['an array', [{ type: 'object' }], 'must be a JSON Schema object'],
    ['null', null, 'must be a JSON Schema object'],
  ])('rejects %s with a 400 naming the param', (_name, schema, detail) => {
    const err = thrown(() => validateJsonSchemaDefinition(schema, 'response_format.json_schema.schema'));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request_error');
    expect(err.param).toBe('response_format.json_schema.schema');
    expect(err.message).toContain('response_format.json_schema.schema is not a valid JSON Schema');
    expect(err.message).toContain(detail);
    expect(err.message).not.toContain('gateway.invalid');
  });

  it('accepts a deep but reasonable schema', () => {
    expect(() => validateJsonSchemaDefinition(nested(60), 'schema')).not.toThrow();
    expect(validateAgainst(nested(60), 'not an object')).toMatchObject({ ok: false });
  });

  it.each([
    ['800 levels of properties', nested(800), 'more than 128 levels deep'],
    ['100,000 levels of properties', nested(100_000), 'more than 128 levels deep'],
    ['a chain of 9,900 $refs (within the size limit)', refChain(9_900), 'its references nest too deeply to be checked'],
  ])('rejects %s with a 400, not a stack overflow', (_name, schema, detail) => {
    const err = thrown(() => validateJsonSchemaDefinition(schema, 'tools[0].function.parameters'));
    expect(err.status).toBe(400);
    expect(err.param).toBe('tools[0].function.parameters');
    expect(err.message).toContain(detail);
    expect(thrown(() => validateAgainst(schema, {})).param).toBe('schema');
  });

  it('lets unrelated schemas share an $id', () => {
    validateJsonSchemaDefinition({ $id: 'https://example.com/thing', type: 'object' }, 'a');
    expect(() => validateJsonSchemaDefinition({ $id: 'https://example.com/thing', type: 'string' }, 'b')).not.toThrow();
  });
});

describe('validateAgainst', () => {
  it("takes a required property to be one the value has itself, not Object.prototype's (constructor, toString)", () => {
    const schema = {
      type: 'object',
      properties: { constructor: {}, toString: {}, name: { type: 'string' } },
      required: ['constructor', 'toString', 'name'],
    };
    expect(validateAgainst(schema, { name: 'n' })).toMatchObject({ ok: false });
    expect(validateAgainst(schema, { constructor: 'c', toString: 't', name: 'n' })).toMatchObject({ ok: true });
  });
});

describe('compileSchema cache', () => {
  it('returns the same validator for the same object and for an equal copy', () => {
    const first = compileSchema(weather);
    expect(compileSchema(weather)).toBe(first);
    expect(compileSchema(structuredClone(weather))).toBe(first);
  });

  it('keeps different drafts of the same body apart', () => {
    const draft7 = compileSchema({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' });
    const draft2020 = compileSchema({ type: 'string' });
    expect(draft7).not.toBe(draft2020);
  });

  it('caches invalid schemas too', () => {
    const bad = { type: 'nope' };
    expect(compileSchema(bad)).toBe(compileSchema({ type: 'nope' }));
    expect(compileSchema(bad).ok).toBe(false);
  });
});

describe('validateAgainst', () => {
  it.each([[{ city: 'Paris' }], [{ city: 'Paris', unit: 'celsius', days: 3 }]])('accepts %j', (value) => {
    expect(validateAgainst(weather, value)).toEqual({ ok: true });
  });

  it.each([
    [{}, "$ must have required property 'city'"],
    [{ city: 'Paris', days: 1.5 }, '$.days must be integer'],
    [{ city: 'Paris', unit: 'kelvin' }, '$.unit must be one of "celsius", "fahrenheit"'],
    [{ city: 'Paris', wind: true }, "$ must not have the additional property 'wind'"],
    [{ city: '' }, '$.city must NOT have fewer than 1 characters'],
    ['Paris', '$ must be object'],
  ])('reports %j as %s', (value, errors) => {
    const result = validateAgainst(weather, value);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors).toContain(errors);
  });

  it('answers a 400 for a pattern that compiles but overflows the stack when it runs, not a crash', () => {
    const schema = { type: 'string', pattern: '^(a?){1000000000}$' };
    expect(() => validateJsonSchemaDefinition(schema, 'schema')).not.toThrow();
    const err = thrown(() => validateAgainst(schema, 'aaa'));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(400);
    expect(err.param).toBe('schema');
    expect(err.message).toContain('cannot be checked');
  });

  it('lists every problem at once, in JSON-path form', () => {
    const schema = {
      type: 'object',
      properties: { items: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } } } } },
    };
    const result = validateAgainst(schema, { items: [{ qty: 1 }, { qty: 'two' }, { qty: 2.5 }] });
    expect(result).toEqual({ ok: false, errors: '$.items[1].qty must be integer; $.items[2].qty must be integer' });
  });

  it('follows a reference to the root of a recursive schema', () => {
    const value = { name: 'root', children: [{ name: 'a', children: [{ name: 'b' }] }] };
    expect(validateAgainst(tree, value)).toEqual({ ok: true });
    expect(validateAgainst(tree, { name: 'root', children: [{ name: 'a', children: [{ name: 2 }, {}] }] })).toEqual({
      ok: false,
      errors:
        "$.children[0].children[0].name must be string; $.children[0].children[1] must have required property 'name'",
    });
  });

  it('checks formats (ajv-formats)', () => {
    const schema = {
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' }, mail: { type: 'string', format: 'email' } },
    };
    expect(validateAgainst(schema, { at: '2025-01-02T03:04:05Z', mail: 'a@b.co' })).toEqual({ ok: true });
    expect(validateAgainst(schema, { at: 'yesterday', mail: 'nope' })).toEqual({
      ok: false,
      errors: '$.at must match format "date-time"; $.mail must match format "email"',
    });
  });

  it('caps a long error list', () => {
    const schema = { type: 'array', items: { type: 'integer' } };
    const result = validateAgainst(
      schema,
      Array.from({ length: 20 }, () => 'x'),
    );
    expect(result.ok ? '' : result.errors).toMatch(/; and 12 more$/);
  });

  it('throws a 400 for a schema that is not one', () => {
    expect(thrown(() => validateAgainst({ type: 'nope' }, {})).param).toBe('schema');
  });
});

describe('schemaAsProperty', () => {
  it('nests a schema as the one required property of a closed object', () => {
    const list = { type: 'array', items: { type: 'string' }, minItems: 1 };
    const wrapped = schemaAsProperty(list, 'value');
    expect(wrapped).toEqual({
      type: 'object',
      properties: { value: list },
      required: ['value'],
      additionalProperties: false,
    });
    expect(validateAgainst(wrapped, { value: ['a'] }).ok).toBe(true);
    expect(validateAgainst(wrapped, { value: [] }).ok).toBe(false);
    expect(validateAgainst(wrapped, ['a']).ok).toBe(false);
  });

  it('keeps definitions at the root and points references to the schema itself into the property', () => {
    // A tree: its root refers to itself (`#`), its items to a definition and to a part of the root.
    const tree = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { leaf: { type: 'string' }, pair: { type: 'array', items: { $ref: '#' }, maxItems: 2 } },
      type: 'array',
      items: { anyOf: [{ $ref: '#/$defs/leaf' }, { $ref: '#/$defs/pair' }, { $ref: '#/items/anyOf/0' }] },
      // Data, not schemas: never rewritten.
      examples: [{ $ref: '#' }],
    };
    const wrapped = schemaAsProperty(tree, 'value');
    expect(wrapped).toMatchObject({
      $schema: tree.$schema,
      $defs: { leaf: { type: 'string' }, pair: { items: { $ref: '#/properties/value' } } },
      properties: {
        value: {
          type: 'array',
          items: {
            anyOf: [{ $ref: '#/$defs/leaf' }, { $ref: '#/$defs/pair' }, { $ref: '#/properties/value/items/anyOf/0' }],
          },
          examples: [{ $ref: '#' }],
        },
      },
    });
    expect(wrapped.properties).not.toHaveProperty('value.$defs');
    for (const [value, valid] of [
      [['a', [['b'], ['c']]], true],
      [['a', [['b'], ['c'], ['d']]], false],
      [['a', ['b']], false],
    ] as const) {
      expect(validateAgainst(tree, value).ok).toBe(valid);
      expect(validateAgainst(wrapped, { value }).ok).toBe(valid);
    }
    expect(validateAgainst(wrapped, { value: [1] }).ok).toBe(false);
  });

  it('reads property maps as names, keeps a key named __proto__, and escapes the property in references', () => {
    const schema = JSON.parse(
      '{"anyOf": [{"type": "object", "properties": {"$ref": {"$ref": "#"}, "__proto__": {"type": "number"}}}, {"type": "null"}]}',
    ) as Record<string, unknown>;
    const wrapped = schemaAsProperty(schema, 'a/b');
    const inner = (wrapped.properties as Record<string, { anyOf: Array<{ properties: Record<string, unknown> }> }>)[
      'a/b'
    ];
    expect(inner.anyOf[0].properties['$ref']).toEqual({ $ref: '#/properties/a~1b' });
    expect(Object.keys(inner.anyOf[0].properties)).toEqual(['$ref', '__proto__']);
    // The property `$ref` refers to the whole value again: a null, or such an object.
    expect(validateAgainst(wrapped, { 'a/b': { $ref: { $ref: null } } }).ok).toBe(true);
    expect(validateAgainst(wrapped, { 'a/b': { $ref: 'x' } }).ok).toBe(false);
  });
});

describe('patterns that could stall the event loop', () => {
  /** `(a+)+` on 40 a's and a `!`: 2^40 steps on V8, which runs it for the lookahead. */
  const evil = { type: 'object', properties: { name: { type: 'string', pattern: '^(?=a)(a+)+$' } } };
  const reply = { name: `${'a'.repeat(40)}!` };

  it('refuses a schema values are checked against with a pattern only V8 runs and that takes exponential time there, naming the param', () => {
    const error = thrown(() =>
      validateJsonSchemaDefinition(evil, 'response_format.json_schema.schema', { checksValues: true }),
    );
    expect(error).toMatchObject({ status: 400, param: 'response_format.json_schema.schema' });
    expect(error.message).toBe(
      'response_format.json_schema.schema cannot be checked: the pattern "^(?=a)(a+)+$" at $.properties.name.pattern ' +
        'can take exponential time to check: it repeats a part that itself varies in length (follow each of its ' +
        'variable parts by a character that part cannot match, as in `^[a-z]+(-[a-z]+)*$` or `(\\s*,\\s*[a-z]+)*`); ' +
        'it has a lookahead `(?=...)`, so the linear-time engine cannot run it.',
    );
    // A schema only passed on (a tool that is not strict) is the provider's business.
    expect(() => validateJsonSchemaDefinition(evil, 'tools[0].function.parameters')).not.toThrow();
    // So is one with a back-reference.
    const backReference = { type: 'string', pattern: '^(a+)+\\1$' };
    expect(
      thrown(() => validateJsonSchemaDefinition(backReference, 'schema', { checksValues: true })).message,
    ).toContain('it has a back-reference `\\1`, so the linear-time engine cannot run it');
  });

  it('never runs such a pattern: checking a value against its schema is a 400 at once, not seconds of work', () => {
    const started = performance.now();
    expect(thrown(() => validateAgainst(evil, reply))).toMatchObject({ status: 400, param: 'schema' });
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('reads patternProperties and propertyNames, not strings under const, enum, default or examples', () => {
    const checked = (schema: object) => () => validateJsonSchemaDefinition(schema, 'schema', { checksValues: true });
    expect(checked({ type: 'object', patternProperties: { '^(?!x)(\\w|\\d)+$': {} } })).toThrow(/patternProperties/);
    expect(checked({ type: 'object', propertyNames: { pattern: '(?<=x)(a|aa)+$' } })).toThrow(/propertyNames\.pattern/);
    expect(
      checked({
        type: 'object',
        properties: { pattern: { type: 'string', const: '(?=a)(a+)+' } },
        default: { pattern: '(?=a)(a+)+' },
        examples: [{ pattern: '(?=a)(a+)+' }],
        enum: [{ pattern: '(?=a)(a+)+' }],
      }),
    ).not.toThrow();
  });

  it('reads the schemas of properties named like data keywords (enum, const, default, examples)', () => {
    for (const name of ['enum', 'const', 'default', 'examples', 'example']) {
      const schema = { type: 'object', properties: { [name]: { type: 'string', pattern: '^(?=a)(a|a)*$' } } };
      const error = thrown(() => validateJsonSchemaDefinition(schema, 'schema', { checksValues: true }));
      expect(error.message, name).toContain(`at $.properties.${name}.pattern can take exponential time`);
      expect(thrown(() => validateAgainst(schema, { [name]: 'a' })).status).toBe(400);
    }
    const defs = { $defs: { enum: { type: 'string', pattern: '(?<=x)(a|aa)+$' } }, $ref: '#/$defs/enum' };
    expect(thrown(() => validateJsonSchemaDefinition(defs, 'schema', { checksValues: true })).message).toContain(
      'at $.$defs.enum.pattern',
    );
  });

  it.each(EXPONENTIAL_PATTERNS)(
    'accepts %s, which re2js runs in linear time, and checks a 20,000-character text built to trip V8 with it',
    (pattern) => {
      const schema = { type: 'object', properties: { text: { type: 'string', pattern } } };
      expect(() => validateJsonSchemaDefinition(schema, 'schema', { checksValues: true })).not.toThrow();
      const limit = compilePattern(pattern).maxInputChars;
      for (const unit of ['a', 'a1-', 'a=b;']) {
        const text = `${unit.repeat(Math.ceil(20_000 / unit.length)).slice(0, Math.min(20_000, limit - 1))}!`;
        const result = validateAgainst(schema, { text });
        // V8 gives the same answer on the same shape, 12 characters long.
        const short = `${unit.repeat(12).slice(0, 12)}!`;
        expect(validateAgainst(schema, { text: short }).ok).toBe(new RegExp(pattern, 'u').test(short));
        expect(result.ok || result.errors.includes('must match pattern')).toBe(true);
      }
    },
  );

  it(`checks no text longer than ${MAX_PATTERN_INPUT_CHARS} characters against a pattern V8 runs: the check fails, saying why`, () => {
    const schema = { type: 'object', properties: { word: { type: 'string', pattern: '(?=c)(cat|dog)+x' } } };
    expect(validateAgainst(schema, { word: 'catdogx' })).toEqual({ ok: true });
    expect(validateAgainst(schema, { word: 'cat'.repeat(MAX_PATTERN_INPUT_CHARS / 3) })).toMatchObject({
      ok: false,
      errors: expect.stringContaining('must match pattern'),
    });
    expect(validateAgainst(schema, { word: 'catdog'.repeat(2_000) })).toEqual({
      ok: false,
      errors: `a text of 12000 characters is longer than the ${MAX_PATTERN_INPUT_CHARS} checked against a pattern`,
    });
  });

  it('checks longer texts against a pattern re2js runs, up to a bound that shrinks as the pattern grows', () => {
    const schema = { type: 'object', properties: { word: { type: 'string', pattern: '^(cat|dog)+x$' } } };
    const limit = compilePattern('^(cat|dog)+x$').maxInputChars;
    expect(limit).toBeGreaterThan(50_000);
    expect(validateAgainst(schema, { word: `${'catdog'.repeat(8_000)}x` })).toEqual({ ok: true });
    expect(validateAgainst(schema, { word: 'catdog'.repeat(8_000) })).toMatchObject({
      ok: false,
      errors: expect.stringContaining('must match pattern'),
    });
    expect(validateAgainst(schema, { word: 'catdog'.repeat(100_000) })).toEqual({
      ok: false,
      errors: `a text of 600000 characters is longer than the ${limit} checked against a pattern`,
    });
  });
});

/** A text each pattern of FORMERLY_REFUSED matches, and one it does not. */
const FORMERLY_REFUSED_TEXTS: Array<[string, string]> = [
  ['api.example.com', '-bad-.com'],
  ['1.2.3-rc.1+build.5', '1.2'],
  ['* * * * *', '* * *'],
  ['0,30 9-17 * * 1-5', '0,30 9-17 * *'],
  ['Émile Zola', 'émile zola'],
  ['library/node:20-alpine', 'Library/Node'],
  ['1h30m', '1x'],
  ['1.5µs250ms', 'ms'],
  ['ISBN 978-0-596-52068-7', 'ISBN 12'],
  ['1-3,5,7-9', '1,,2'],
  ['a=1;b;c=', ';'],
  ['en-US, fr', 'EN'],
];

describe("patterns the safety analysis refused although safe (semver.org's...)", () => {
  it.each(FORMERLY_REFUSED.map((pattern, i) => [pattern, ...FORMERLY_REFUSED_TEXTS[i]]))(
    'accepts %s in a schema values are checked against, and checks values with it as V8 would',
    (pattern, valid, invalid) => {
      const schema = { type: 'object', properties: { value: { type: 'string', pattern } } };
      expect(() => validateJsonSchemaDefinition(schema, 'schema', { checksValues: true })).not.toThrow();
      expect([new RegExp(pattern, 'u').test(valid), new RegExp(pattern, 'u').test(invalid)]).toEqual([true, false]);
      expect(validateAgainst(schema, { value: valid })).toEqual({ ok: true });
      expect(validateAgainst(schema, { value: invalid })).toMatchObject({
        ok: false,
        errors: expect.stringContaining('$.value must match pattern'),
      });
    },
  );
});

describe('compiled schemas in memory', () => {
  it('lets go of a schema once it has left the caches, however many distinct schemas came after', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const early: Array<WeakRef<object>> = [];
    for (let i = 0; i < 50; i++) {
      const properties = { [`field${i}`]: { type: 'string' } };
      early.push(new WeakRef(properties));
      expect(compileSchema({ type: 'object', properties }).ok).toBe(true);
    }
    // Distinct schemas, as many clients' would be: far more than the caches hold.
    for (let i = 0; i < 2_500; i++) compileSchema({ type: 'object', description: `schema ${i}` });
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // ajv itself keeps every schema an instance compiled: without retiring instances, none is freed.
    expect(early.filter((ref) => ref.deref() === undefined).length).toBeGreaterThanOrEqual(45);
  });
});

describe('checkFormat', () => {
  it.each<[string, string | number, boolean | undefined]>([
    ['email', 'mock@example.com', true],
    ['email', 'not an email', false],
    ['date-time', '2024-01-01T00:00:00Z', true],
    ['date-time', '2024-01-01T00:00:00', false],
    ['int32', 3, true],
    ['int32', 1.5, false],
    ['int32', 'three', undefined],
    ['email', 3, undefined],
    ['password', 'anything', true],
    ['not-a-format', 'anything', undefined],
    ['constructor', 'anything', undefined],
  ])('%s %j: %s, as the validator checks it', (format, value, expected) => {
    expect(checkFormat(format, value)).toBe(expected);
  });
});

/** An object schema with `count` properties, each `property(i)`. */
function wide(count: number, property: (i: number) => unknown = () => ({ type: 'string' })): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) properties[`p${i}`] = property(i);
  return { type: 'object', properties };
}

describe('schemas too large to compile', () => {
  it(`accepts a schema of OpenAI's largest size (5,000 properties), and refuses one past ${SCHEMA_LIMITS.objects} schema objects, naming it`, () => {
    const openAiLargest = { ...wide(5_000), required: Array.from({ length: 5_000 }, (_, i) => `p${i}`) };
    expect(() => validateJsonSchemaDefinition(openAiLargest, 'response_format.json_schema.schema')).not.toThrow();
    const error = thrown(() =>
      validateJsonSchemaDefinition(wide(SCHEMA_LIMITS.objects), 'tools[0].function.parameters'),
    );
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'tools[0].function.parameters' });
    expect(error.message).toBe(
      'tools[0].function.parameters is too large for the gateway to check: it holds 10,002 schema objects, ' +
        'and the JSON Schemas of one request may hold at most 10,000 schema objects together',
    );
    // validateAgainst gives the same answer for such a schema.
    expect(thrown(() => validateAgainst(wide(SCHEMA_LIMITS.objects), {})).message).toContain(
      'schema is too large for the gateway to check: it holds 10,002 schema objects',
    );
  });

  it(`counts patterns (pattern, patternProperties keys) to ${SCHEMA_LIMITS.patterns} and other values to ${SCHEMA_LIMITS.values}, and not what data keywords hold`, () => {
    const patterns = (count: number) => wide(count, (i) => ({ type: 'string', pattern: `^x${i}$` }));
    expect(() => validateJsonSchemaDefinition(patterns(SCHEMA_LIMITS.patterns), 'schema')).not.toThrow();
    expect(
      thrown(() => validateJsonSchemaDefinition(patterns(SCHEMA_LIMITS.patterns + 1), 'schema')).message,
    ).toContain(
      'it holds 1,001 patterns, and the JSON Schemas of one request may hold at most 1,000 patterns together',
    );
    const keys = {
      type: 'object',
      patternProperties: Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`^k${i}$`, {}])),
    };
    expect(thrown(() => validateJsonSchemaDefinition(keys, 'schema')).message).toContain('it holds 1,001 patterns');
    // Boolean subschemas are cheap to hold but not free to compile: counted as values.
    const booleans = wide(SCHEMA_LIMITS.values, () => true);
    expect(thrown(() => validateJsonSchemaDefinition(booleans, 'schema')).message).toContain(
      'it holds 50,003 values, and the JSON Schemas of one request may hold at most 50,000 values together',
    );
    const data = Array.from({ length: SCHEMA_LIMITS.values }, (_, i) => ({ pattern: `x${i}` }));
    expect(() =>
      validateJsonSchemaDefinition({ type: 'object', enum: data, examples: data, default: data[0] }, 'schema'),
    ).not.toThrow();
  });

  it("counts a request's schemas together: the one that takes them past a limit is refused, whatever the cache holds", () => {
    const budget = new SchemaBudget();
    const first = wide(6_000);
    validateJsonSchemaDefinition(first, 'tools[0].function.parameters', { budget });
    const error = thrown(() => validateJsonSchemaDefinition(wide(4_500), 'tools[1].function.parameters', { budget }));
    expect(error.param).toBe('tools[1].function.parameters');
    expect(error.message).toBe(
      'tools[1].function.parameters is too large for the gateway to check: it holds 4,502 schema objects ' +
        '(with the 6,002 of the schemas before it), and the JSON Schemas of one request may hold at most ' +
        '10,000 schema objects together',
    );
    // The refused schema took nothing: a small one still fits.
    expect(() => validateJsonSchemaDefinition(weather, 'tools[2].function.parameters', { budget })).not.toThrow();
    // Alone, in another request, the refused one is fine; and the cached first one still counts.
    const next = new SchemaBudget();
    expect(() =>
      validateJsonSchemaDefinition(wide(4_500), 'tools[0].function.parameters', { budget: next }),
    ).not.toThrow();
    expect(() =>
      validateJsonSchemaDefinition(structuredClone(first), 'tools[1].function.parameters', { budget: next }),
    ).toThrow(/tools\[1\]\.function\.parameters is too large .* \(with the 4,502 of the schemas before it\)/);
    // Schemas that are not valid take nothing either.
    const invalid = new SchemaBudget();
    expect(() => validateJsonSchemaDefinition({ type: 'nope' }, 'a', { budget: invalid })).toThrow(
      /not a valid JSON Schema/,
    );
    expect(() => validateJsonSchemaDefinition(wide(9_000), 'b', { budget: invalid })).not.toThrow();
  });
});
