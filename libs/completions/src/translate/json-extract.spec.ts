import { describe, expect, it } from 'vitest';
import { balancedEnd, extractJson, jsonCandidates } from './json-extract';

describe('extractJson', () => {
  it.each([
    ['a bare object', '{"city":"Paris","temp":21}', { city: 'Paris', temp: 21 }],
    ['surrounding whitespace', '\n  {"a":1}  \n', { a: 1 }],
    ['a json fence', 'Here it is:\n```json\n{"a": [1, 2]}\n```\nAnything else?', { a: [1, 2] }],
    ['a bare fence', '```\n{"a": true}\n```', { a: true }],
    ['an uppercase fence tag', '```JSON\n{"a": 1}\n```', { a: 1 }],
    ['leading prose', 'Sure! The answer is {"answer": "42", "unit": null} as requested.', { answer: '42', unit: null }],
    ['braces inside strings', 'Result: {"text": "use } and { freely", "n": 1}', { text: 'use } and { freely', n: 1 }],
    ['escaped quotes in strings', '{"q": "say \\"hi\\" {"}', { q: 'say "hi" {' }],
    ['nested objects', 'x {"a": {"b": {"c": [1, {"d": 2}]}}} y', { a: { b: { c: [1, { d: 2 }] } } }],
    ['an array when there is no object', 'The list: [1, 2, 3].', [1, 2, 3]],
    ['a scalar reply', '42', 42],
    ['the JSON null', 'null', null],
    ['a truncated fence (no closing ```)', '```json\n{"a": 1}\n', { a: 1 }],
    ['an invalid span followed by a valid one', '{\'a\': 1} then {"b": 2}', { b: 2 }],
  ])('finds %s', (_name, text, expected) => {
    expect(extractJson(text)).toEqual(expected);
  });

  it.each([
    ['plain prose', 'I cannot help with that.'],
    ['an unclosed object', '{"a": 1'],
    ['JavaScript, not JSON', "{a: 1, 'b': 2}"],
    ['empty text', ''],
  ])('returns undefined for %s', (_name, text) => {
    expect(extractJson(text)).toBeUndefined();
  });

  it('stops looking after a bounded number of candidate spans', () => {
    const text = '{x '.repeat(10_000) + '{"a": 1}';
    expect(extractJson(text)).toBeUndefined();
  });
});

describe('jsonCandidates', () => {
  it('yields the fenced value before values found in prose', () => {
    const text = 'Example {"draft": true}\n```json\n{"final": true}\n```';
    expect([...jsonCandidates(text)]).toEqual([{ final: true }, { draft: true }, { final: true }]);
  });
});

describe('balancedEnd', () => {
  it.each([
    ['{}', 0, 2],
    ['[{"a": "]"}]', 0, 12],
    ['{"a": [}', 0, -1],
    ['{', 0, -1],
  ])('%s from %i -> %i', (text, start, end) => {
    expect(balancedEnd(text, start)).toBe(end);
  });
});
