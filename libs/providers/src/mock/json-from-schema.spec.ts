import { GatewayError, compileSchema, formatSchemaErrors, validateJsonSchemaDefinition } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import { sampleFromSchema, type SampleOptions } from './json-from-schema';

/**
 * The mock's samples against the gateway's own validator (`compileSchema` from
 * contracts: the ajv instances and options that check structured output): for
 * every schema the gateway accepts, a sample that validates, or a clear 400.
 */

type Mode = SampleOptions['properties'];

const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
  ...extra,
});

/** OpenAI structured-output (strict mode) schemas: every property required, no extra ones, nullables as type arrays. */
const STRICT: Array<[string, Record<string, unknown>]> = [
  [
    'calendar event',
    object({
      name: { type: 'string' },
      date: { type: 'string', format: 'date' },
      participants: { type: 'array', items: { type: 'string' } },
    }),
  ],
  [
    'math reasoning',
    object({
      steps: { type: 'array', items: object({ explanation: { type: 'string' }, output: { type: 'string' } }) },
      final_answer: { type: 'string' },
    }),
  ],
  [
    'recursive UI ("$ref": "#")',
    object({
      type: { type: 'string', enum: ['div', 'button', 'header', 'section', 'field', 'form'] },
      label: { type: 'string' },
      children: { type: 'array', items: { $ref: '#' } },
      attributes: {
        type: 'array',
        items: object({ name: { type: 'string' }, value: { type: 'string' } }),
      },
    }),
  ],
  [
    'linked list through $defs, nullable next',
    {
      type: 'object',
      properties: { linked_list: { $ref: '#/$defs/node' } },
      required: ['linked_list'],
      additionalProperties: false,
      $defs: {
        node: object({ value: { type: 'number' }, next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } }),
      },
    },
  ],
  [
    'nullable fields and enums',
    object({
      title: { type: ['string', 'null'] },
      priority: { type: ['string', 'null'], enum: ['low', 'high', null] },
      due: { type: ['string', 'null'], format: 'date-time' },
      estimate: { type: ['integer', 'null'], minimum: 1, maximum: 40 },
    }),
  ],
  [
    'discriminated union in anyOf',
    object({
      item: {
        anyOf: [
          object({ kind: { type: 'string', const: 'user' }, name: { type: 'string' }, age: { type: 'number' } }),
          object({
            kind: { type: 'string', const: 'address' },
            number: { type: 'string' },
            street: { type: 'string' },
          }),
        ],
      },
    }),
  ],
  [
    'strict with string and number constraints',
    object({
      username: { type: 'string', pattern: '^@[a-zA-Z0-9_]+$', minLength: 3, maxLength: 16 },
      email: { type: 'string', format: 'email' },
      id: { type: 'string', format: 'uuid' },
      score: { type: 'number', minimum: 0, maximum: 1 },
      level: { type: 'integer', exclusiveMinimum: 0, multipleOf: 5 },
      tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 4 },
    }),
  ],
];

const FORMATS = [
  'date-time',
  'date',
  'time',
  'iso-time',
  'iso-date-time',
  'duration',
  'email',
  'uri',
  'url',
  'uri-reference',
  'uri-template',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
  'json-pointer',
  'json-pointer-uri-fragment',
  'relative-json-pointer',
  'regex',
  'byte',
  'password',
  'not-a-known-format',
];

/** Schemas the gateway accepts and the mock must sample validly. */
const VALID: Array<[string, Record<string, unknown>]> = [
  ...STRICT,
  ['empty schema', {}],
  ['minLength above the usual sample', { type: 'string', minLength: 10 }],
  ['maxLength below the usual sample', { type: 'string', maxLength: 2 }],
  ['maxLength 0', { type: 'string', maxLength: 0 }],
  ['exact length', { type: 'string', minLength: 7, maxLength: 7 }],
  ['anchored pattern', { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' }],
  ['pattern with alternation and groups', { type: 'string', pattern: '^(?:foo|ba[rz])(-\\d+)?$' }],
  ['pattern with a minLength it can stretch to', { type: 'string', pattern: '^[a-z]+$', minLength: 12 }],
  ['unanchored pattern padded to minLength', { type: 'string', pattern: 'abc', minLength: 8 }],
  ['pattern with a unicode class', { type: 'string', pattern: '^\\p{Lu}\\p{Ll}{2,}$' }],
  ['two patterns (allOf)', { allOf: [{ type: 'string', pattern: '^a' }, { pattern: 'z$' }] }],
  ['pattern and format', { type: 'string', format: 'email', pattern: '@example\\.com$' }],
  ['a pattern of 150,000 alternatives', { type: 'string', pattern: `^(?:${'a|'.repeat(150_000)}b)$` }],
  [
    "semver.org's pattern (refused until re2js ran it)",
    {
      type: 'string',
      pattern:
        '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
    },
  ],
  ['a duration list (refused until re2js ran it)', { type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$' }],
  ['a pattern V8 takes exponential time on, run by re2js', { type: 'string', pattern: '^(a+)+$', minLength: 30 }],
  ...FORMATS.map((format): [string, Record<string, unknown>] => [`format ${format}`, { type: 'string', format }]),
  ['a long email', { type: 'string', format: 'email', minLength: 40 }],
  ['a short email', { type: 'string', format: 'email', maxLength: 8 }],
  ['a long date-time', { type: 'string', format: 'date-time', minLength: 30 }],
  ['a long hostname', { type: 'string', format: 'hostname', minLength: 100 }],
  ['a long uri', { type: 'string', format: 'uri', minLength: 50 }],
  ['minimum', { type: 'integer', minimum: 18 }],
  ['maximum below 1', { type: 'integer', maximum: -10 }],
  ['number maximum below 1', { type: 'number', maximum: 0.5 }],
  ['exclusive bounds (number)', { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }],
  ['exclusive minimum (integer)', { type: 'integer', exclusiveMinimum: 5 }],
  ['exclusive maximum right above the minimum', { type: 'integer', minimum: 3, exclusiveMaximum: 4 }],
  ['multipleOf with a minimum', { type: 'integer', multipleOf: 7, minimum: 50 }],
  ['decimal multipleOf', { type: 'number', multipleOf: 0.1, minimum: 0.25 }],
  ['two multipleOfs', { allOf: [{ type: 'integer', multipleOf: 6 }, { multipleOf: 4 }] }],
  ['integer with a fractional multipleOf', { type: 'integer', multipleOf: 0.5, minimum: 2.2 }],
  ['int32 format above 0.5', { type: 'number', format: 'int32', minimum: 0.5 }],
  ['integer or string', { type: ['integer', 'string'], minimum: 3 }],
  ['nullable string', { type: ['string', 'null'], minLength: 3 }],
  ['only null', { type: ['null'] }],
  ['boolean', { type: 'boolean' }],
  ['const', { const: { a: [1, 'b'] } }],
  ['enum members of other types skipped', { type: 'integer', enum: ['a', 1.5, 3] }],
  ['enum intersected (allOf)', { allOf: [{ enum: ['a', 'b', 'c'] }, { enum: ['c', 'b'] }] }],
  ['an invalid default is not used', { type: 'integer', minimum: 5, default: 1 }],
  ['minItems and maxItems', { type: 'array', items: { type: 'integer' }, minItems: 3, maxItems: 3 }],
  ['maxItems 0', { type: 'array', items: { type: 'string' }, maxItems: 0 }],
  ['uniqueItems integers', { type: 'array', items: { type: 'integer', maximum: 3 }, minItems: 6, uniqueItems: true }],
  ['uniqueItems strings', { type: 'array', items: { type: 'string', maxLength: 1 }, minItems: 5, uniqueItems: true }],
  ['uniqueItems from an enum', { type: 'array', items: { enum: ['r', 'g', 'b'] }, minItems: 3, uniqueItems: true }],
  ['uniqueItems booleans', { type: 'array', items: { type: 'boolean' }, minItems: 2, uniqueItems: true }],
  ['uniqueItems formats', { type: 'array', items: { type: 'string', format: 'uuid' }, minItems: 4, uniqueItems: true }],
  [
    'uniqueItems patterns',
    { type: 'array', items: { type: 'string', pattern: '^[a-c]{2}$' }, minItems: 9, uniqueItems: true },
  ],
  [
    'uniqueItems objects',
    { type: 'array', items: object({ n: { type: 'integer', minimum: 1 } }), minItems: 4, uniqueItems: true },
  ],
  [
    'prefixItems with no other items',
    {
      type: 'array',
      prefixItems: [{ type: 'string', format: 'date' }, { type: 'integer' }, { const: 'end' }],
      items: false,
      minItems: 2,
    },
  ],
  [
    'contains and minContains',
    { type: 'array', items: { type: 'integer' }, contains: { minimum: 10 }, minContains: 2 },
  ],
  [
    'minProperties with additionalProperties',
    { type: 'object', additionalProperties: { type: 'integer', minimum: 2 }, minProperties: 3 },
  ],
  [
    'minProperties from patternProperties',
    {
      type: 'object',
      patternProperties: { '^x-[a-z]+$': { type: 'string' } },
      additionalProperties: false,
      minProperties: 2,
    },
  ],
  [
    'propertyNames',
    { type: 'object', propertyNames: { pattern: '^[A-Z]{2,3}$' }, additionalProperties: true, minProperties: 2 },
  ],
  ['maxProperties below the declared ones', { type: 'object', properties: { a: {}, b: {}, c: {} }, maxProperties: 1 }],
  [
    'additionalProperties false with a pattern property value',
    {
      type: 'object',
      properties: { id: { type: 'string' } },
      patternProperties: { '^i': { maxLength: 3 } },
      required: ['id'],
      additionalProperties: false,
    },
  ],
  [
    'dependentRequired and dependentSchemas',
    {
      type: 'object',
      properties: { card: { type: 'string' }, address: { type: 'string' } },
      required: ['card'],
      dependentRequired: { card: ['billing'] },
      dependentSchemas: { card: { properties: { billing: { type: 'string', format: 'email' } } } },
    },
  ],
  [
    'draft-07 dependencies, definitions, tuple items',
    {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        point: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false },
        ref: { $ref: '#/definitions/name' },
      },
      required: ['point', 'ref'],
      dependencies: { ref: ['extra'] },
      definitions: { name: { type: 'string', minLength: 5 } },
    },
  ],
  [
    '2019-09 $recursiveRef',
    {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      $recursiveAnchor: true,
      type: 'object',
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $recursiveRef: '#' } } },
      required: ['name', 'children'],
    },
  ],
  [
    '$anchor reference',
    {
      type: 'object',
      properties: { a: { $ref: '#thing' } },
      required: ['a'],
      $defs: { t: { $anchor: 'thing', type: 'integer', minimum: 4 } },
    },
  ],
  [
    'a $ref with an escaped pointer segment',
    {
      type: 'object',
      properties: { v: { $ref: '#/$defs/a%25~1b' } },
      required: ['v'],
      $defs: { 'a%/b': { type: 'integer', minimum: 3 } },
    },
  ],
  [
    'mutually recursive $defs',
    {
      $ref: '#/$defs/folder',
      $defs: {
        folder: object({ name: { type: 'string' }, files: { type: 'array', items: { $ref: '#/$defs/file' } } }),
        file: object({ name: { type: 'string' }, parent: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/folder' }] } }),
      },
    },
  ],
  [
    'anyOf whose first branch cannot be met',
    {
      anyOf: [
        { type: 'string', minLength: 5, maxLength: 2 },
        { type: 'integer', minimum: 9 },
      ],
    },
  ],
  ['oneOf of disjoint types', { oneOf: [{ type: 'string' }, { type: 'boolean' }] }],
  [
    'allOf merging properties and requirements',
    {
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        { properties: { a: { minLength: 6 }, b: { type: 'integer', minimum: 3 } }, required: ['b'] },
      ],
    },
  ],
  [
    'if / then / else',
    {
      type: 'object',
      properties: { country: { enum: ['US', 'CA'] }, zip: { type: 'string' } },
      required: ['country'],
      if: { properties: { country: { const: 'US' } } },
      then: { properties: { zip: { pattern: '^\\d{5}$' } }, required: ['zip'] },
      else: { properties: { zip: { pattern: '^[A-Z]\\d[A-Z] \\d[A-Z]\\d$' } } },
    },
  ],
  ['not a const', { type: 'string', not: { const: 'mock' } }],
  ['not an enum of numbers', { type: 'integer', not: { enum: [1, 2, 3] } }],
  ['a $ref with siblings', { $ref: '#/$defs/s', maxLength: 3, $defs: { s: { type: 'string' } } }],
  [
    'unevaluatedProperties false with allOf',
    {
      allOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }],
      properties: { b: { type: 'string' } },
      unevaluatedProperties: false,
    },
  ],
  ['properties named like Object methods', object({ constructor: { type: 'integer' }, toString: { type: 'string' } })],
];

function validate(schema: Record<string, unknown>, value: unknown): string | undefined {
  const compiled = compileSchema(schema);
  if (!compiled.ok) throw new Error(`the gateway refuses the test's own schema: ${compiled.error}`);
  return compiled.validate(value) ? undefined : formatSchemaErrors(compiled.validate.errors);
}

describe('sampleFromSchema against the gateway validator', () => {
  it.each(
    VALID.flatMap(([name, schema]) => (['all', 'required'] as Mode[]).map((mode) => [name, mode, schema] as const)),
  )('%s (%s properties): the sample validates, the same every time', (_name, mode, schema) => {
    validateJsonSchemaDefinition(schema, 'schema');
    const sample = sampleFromSchema(schema, { properties: mode, param: 'schema' });
    expect(validate(schema, sample)).toBeUndefined();
    expect(JSON.stringify(sampleFromSchema(schema, { properties: mode, param: 'schema' }))).toBe(
      JSON.stringify(sample),
    );
  });

  it.each<[string, Record<string, unknown>, unknown]>([
    ['a string in its length range', { type: 'string', minLength: 6 }, 'mockxx'],
    ['a string cut to maxLength', { type: 'string', maxLength: 2 }, 'mo'],
    ['a pattern', { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' }, 'AAA-0000'],
    ['an email', { type: 'string', format: 'email' }, 'mock@example.com'],
    ['a date-time', { type: 'string', format: 'date-time' }, '2024-01-01T00:00:00Z'],
    ['an ipv4', { type: 'string', format: 'ipv4' }, '192.0.2.0'],
    ['the lowest multiple in range', { type: 'integer', multipleOf: 7, minimum: 50 }, 56],
    ['inside exclusive bounds', { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, 0.5],
    ['distinct items', { type: 'array', items: { type: 'integer' }, minItems: 3, uniqueItems: true }, [1, 2, 3]],
    [
      'a tuple',
      { type: 'array', prefixItems: [{ type: 'string' }, { type: 'boolean' }], items: false },
      ['mock', true],
    ],
    ['the branch that can be met', { anyOf: [{ type: 'string', minLength: 3, maxLength: 2 }, { type: 'null' }] }, null],
  ])('builds %s', (_name, schema, expected) => {
    expect(sampleFromSchema(schema, { properties: 'all', param: 'schema' })).toEqual(expected);
  });

  it('ends a recursive strict schema with what it requires: one level of children, then none', () => {
    const ui = STRICT[2][1];
    const sample = sampleFromSchema(ui, { properties: 'required', param: 'schema' }) as Record<string, unknown>;
    expect(sample).toMatchObject({ type: 'div', label: 'mock', children: [{ children: [] }] });
  });

  it('refuses a $ref with a malformed escape, as the gateway does, rather than throwing a URIError', () => {
    const schema = { type: 'object', properties: { v: { $ref: '#/$defs/a%zz' } }, $defs: { 'a%zz': {} } };
    expect(() => sampleFromSchema(schema, { properties: 'all', param: 'schema' })).toThrow(
      expect.objectContaining({ status: 400, param: 'schema', message: expect.stringContaining('percent-encoding') }),
    );
  });

  it('past 8 levels builds only what is required: a nullable branch is null there', () => {
    const defs: Record<string, unknown> = { l12: { type: 'string' } };
    for (let i = 0; i < 12; i++) {
      const next = { anyOf: [{ $ref: `#/$defs/l${i + 1}` }, { type: 'null' }] };
      defs[`l${i}`] = { type: 'object', properties: { next }, required: ['next'] };
    }
    let node = sampleFromSchema({ $ref: '#/$defs/l0', $defs: defs }, { properties: 'all', param: 's' });
    let depth = 0;
    while (typeof node === 'object' && node !== null) {
      node = (node as { next: unknown }).next;
      depth++;
    }
    expect([depth, node]).toEqual([8, null]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'minLength above maxLength',
      { type: 'string', minLength: 5, maxLength: 2 },
      'minLength 5 is more than maxLength 2',
    ],
    ['a pattern longer than maxLength', { type: 'string', pattern: '^\\d{5}$', maxLength: 3 }, 'pattern "^\\\\d{5}$"'],
    ['an email of 4 characters', { type: 'string', format: 'email', maxLength: 4 }, 'format email'],
    ['minimum above maximum', { type: 'number', minimum: 10, maximum: 5 }, 'at least 10 and at most 5'],
    ['no integer between', { type: 'integer', exclusiveMinimum: 1, exclusiveMaximum: 2 }, 'no integer above 1'],
    ['no multiple in range', { type: 'integer', multipleOf: 7, minimum: 1, maximum: 6 }, 'multiple of 7'],
    [
      'a required property additionalProperties forbids',
      { type: 'object', properties: { a: {} }, required: ['b'], additionalProperties: false },
      'requires the property "b"',
    ],
    ['an enum without a value of its type', { type: 'integer', enum: ['a', 1.5] }, 'no member of its enum'],
    ['a const of another type', { type: 'string', const: 3 }, 'const 3'],
    [
      'more unique items than values',
      { type: 'array', items: { type: 'boolean' }, minItems: 3, uniqueItems: true },
      'uniqueItems',
    ],
    ['minItems above maxItems', { type: 'array', minItems: 3, maxItems: 2 }, 'needs 3 items but allows at most 2'],
    [
      'a linked list that never ends',
      { type: 'object', properties: { next: { $ref: '#' } }, required: ['next'] },
      'more than 64 levels',
    ],
    ['a false schema', { type: 'object', properties: { a: false }, required: ['a'] }, 'forbids it'],
    ['types that do not meet', { allOf: [{ type: 'string' }, { type: 'integer' }] }, 'no type in common'],
    ['overlapping oneOf branches', { oneOf: [{ type: 'string' }, { type: 'string', minLength: 1 }] }, 'oneOf'],
    ['not everything', { type: 'object', not: {} }, 'must NOT be valid'],
    [
      'a pattern property V8 cannot run',
      { type: 'object', patternProperties: { '(a?){1000000000}': { type: 'string' } }, minProperties: 1 },
      'can take exponential time',
    ],
    [
      'a pattern that can take exponential time on V8, which runs it for its lookahead',
      { type: 'string', pattern: '^(?=a)(a+)+$' },
      'can take exponential time',
    ],
    ['a pattern repeated more than 100000 times', { type: 'string', pattern: '^(a?){1000000000}$' }, 'pattern'],
    ['a pattern whose strings are 10^10 characters', { type: 'string', pattern: '^(x{100000}){100000}$' }, 'pattern'],
  ])('refuses %s with a 400 naming the schema and why', (_name, schema, why) => {
    validateJsonSchemaDefinition(schema, 'schema');
    let thrown: unknown;
    const started = performance.now();
    try {
      sampleFromSchema(schema, { properties: 'all', param: 'response_format.json_schema.schema' });
    } catch (err) {
      thrown = err;
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({
      code: 'invalid_request_error',
      status: 400,
      param: 'response_format.json_schema.schema',
      message: expect.stringContaining(why),
    });
  });
});
