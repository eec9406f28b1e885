import { describe, expect, it } from 'vitest';
import { jsonText, parseJson, parseJsonEvent } from './json-text';

describe('parseJson / jsonText', () => {
  it('forwards the text an object was parsed from, exactly', () => {
    const text = '{"id":"x", "n": 1.0, "big": 12345678901234567890}';
    const value = parseJson(text) as Record<string, unknown>;
    expect(value.id).toBe('x');
    expect(jsonText(value)).toBe(text);
  });

  it('serialises what was not parsed here, including changed copies', () => {
    const value = parseJson('{"a":1,"usage":{"t":2}}') as { a: number; usage?: object };
    const { usage: _usage, ...copy } = value;
    expect(jsonText(copy)).toBe('{"a":1}');
    expect(jsonText({ ...value, a: 2 })).toBe('{"a":2,"usage":{"t":2}}');
    expect(Object.keys(value)).toEqual(['a', 'usage']);
    expect(jsonText({ b: [1, 2] })).toBe('{"b":[1,2]}');
    expect(jsonText('s')).toBe('"s"');
    expect(parseJson('3')).toBe(3);
  });

  it('forwards the text of the latest stream events, and serialises older ones', () => {
    const texts = Array.from({ length: 9 }, (_, i) => `{"n": ${i}}`);
    const events = texts.map((text) => parseJsonEvent(text));
    expect(Object.getOwnPropertySymbols(events[8])).toEqual([]);
    // The 8 latest keep their text (spaces and all); the first was pushed out by the ninth.
    expect(events.slice(1).map((event) => jsonText(event))).toEqual(texts.slice(1));
    expect(jsonText(events[0])).toBe('{"n":0}');
    const { n: _n, ...copy } = events[8] as { n: number };
    expect(jsonText(copy)).toBe('{}');
    expect(parseJsonEvent('"s"')).toBe('s');
  });
});
