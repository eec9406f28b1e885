import { describe, expect, it } from 'vitest';
import { strictModeAccepts } from './strict-schema';

const closed = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

describe('strictModeAccepts', () => {
  it.each([
    ['a closed object, every property required', closed({ name: { type: 'string' } })],
    ['nested closed objects and arrays of them', closed({ tags: { type: 'array', items: closed({ t: {} }) } })],
    ['anyOf and $defs with $ref', { ...closed({ a: { $ref: '#/$defs/a' } }), $defs: { a: closed({}) } }],
    ['an optional field as a union with null', closed({ age: { type: ['integer', 'null'] } })],
  ])('accepts %s', (_name, schema) => {
    expect(strictModeAccepts(schema)).toBe(true);
  });

  it.each([
    ['an open object', { type: 'object', properties: { a: {} }, required: ['a'] }],
    ['a property left out of required', { ...closed({ a: {}, b: {} }), required: ['a'] }],
    ['an open object deep down', closed({ a: { type: 'array', items: { type: 'object', properties: {} } } })],
    ['an open object in $defs', { ...closed({}), $defs: { x: { type: 'object' } } }],
    ['allOf', { ...closed({}), allOf: [] }],
    // OpenAI: "'oneOf' is not permitted" (Pydantic's discriminated unions write it).
    ['oneOf', closed({ p: { oneOf: [closed({ x: { type: 'string' } }), { type: 'string' }] } })],
    [
      'an open object in prefixItems',
      closed({ t: { type: 'array', prefixItems: [{ type: 'object', properties: {} }] } }),
    ],
    ['a root that is not an object', { type: 'array', items: closed({}) }],
  ])('refuses %s', (_name, schema) => {
    expect(strictModeAccepts(schema)).toBe(false);
  });
});
