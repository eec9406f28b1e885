import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { toRe2Syntax } from './re2-syntax';
import { RE2JS_UNICODE_VERSION, translatedPropertyNames, unicodePropertyName } from './unicode-properties';

/** Code points `from`..`to`, every `step`th, surrogates left out (two in a row would pair up). */
function codePoints(from: number, to: number, step = 1): string {
  const chunks: string[] = [];
  let chunk: number[] = [];
  for (let code = from; code <= to; code += step) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    chunk.push(code);
    if (chunk.length === 4096) {
      chunks.push(String.fromCodePoint(...chunk));
      chunk = [];
    }
  }
  chunks.push(String.fromCodePoint(...chunk));
  return chunks.join('');
}

/** re2js, given the translation of `\p{name}` (or `\P{name}`), over a whole text. */
function re2Run(name: string, negative: boolean): RE2JS {
  const translation = toRe2Syntax(`^\\${negative ? 'P' : 'p'}{${name}}+$`, 'u');
  if (!translation.ok) throw new Error(`\\p{${name}} is not translated: ${translation.why}`);
  return RE2JS.compile(translation.source);
}

/**
 * Whether re2js, on the translation of `\p{name}`, matches the characters of
 * `text` that V8 matches and no other: each run V8 finds must be all in, each gap
 * between them all out. Lone surrogates are tried one by one.
 */
function agrees(name: string, text: string): boolean {
  const inside = re2Run(name, false);
  const outside = re2Run(name, true);
  let last = 0;
  for (const run of text.matchAll(new RegExp(`\\p{${name}}+`, 'gu'))) {
    if (run.index > last && !outside.testExact(text.slice(last, run.index))) return false;
    if (!inside.testExact(run[0])) return false;
    last = run.index + run[0].length;
  }
  if (last < text.length && !outside.testExact(text.slice(last))) return false;
  const single = new RegExp(`^\\p{${name}}$`, 'u');
  return ['\ud800', '\udbff', '\udc00', '\udfff'].every((lone) => inside.testExact(lone) === single.test(lone));
}

describe('unicodePropertyName', () => {
  it('names what RE2 has: general categories by any of their names, long script names, some binary properties', () => {
    expect(process.versions.unicode).toBe(RE2JS_UNICODE_VERSION);
    expect(
      ['L', 'Letter', 'gc=Lu', 'General_Category=Decimal_Number', 'punct', 'Script=Greek', 'sc=Han'].map((name) =>
        unicodePropertyName(name),
      ),
    ).toEqual(['L', 'L', 'Lu', 'Nd', 'P', 'Greek', 'Han']);
    expect(['ASCII', 'Any', 'Alpha', 'WSpace'].map((name) => unicodePropertyName(name))).toEqual([
      'Ascii',
      'Any',
      'Alphabetic',
      'White_Space',
    ]);
    // RE2 lacks these, or names them otherwise: V8 runs them.
    for (const name of ['sc=Grek', 'scx=Latin', 'Script_Extensions=Greek', 'Ideographic', 'RGI_Emoji', 'Greek']) {
      expect([name, unicodePropertyName(name)]).toEqual([name, undefined]);
    }
  });

  it('names nothing when V8 and re2js take their tables from different Unicode versions', () => {
    expect(unicodePropertyName('L', '16.0')).toBeUndefined();
    expect(unicodePropertyName('L', RE2JS_UNICODE_VERSION)).toBe('L');
  });

  it('means by each name it translates what V8 means, on every code point below U+3000 and every 37th above', () => {
    const sample = codePoints(0, 0x2fff) + codePoints(0x3000, 0x10ffff, 37);
    const differ = translatedPropertyNames().filter((name) => !agrees(name, sample));
    expect(differ).toEqual([]);
  });

  it.each(['L', 'Cn', 'C', 'Alphabetic', 'Any', 'Script=Han', 'Script=Common'])(
    'means by %s what V8 means, on every code point',
    (name) => {
      expect(agrees(name, codePoints(0, 0x10ffff))).toBe(true);
    },
  );
});
