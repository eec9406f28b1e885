/** Where {@link parseJson} keeps the text: a non-enumerable own property, so copies (spreads, rest) never carry it. */
const TEXT = Symbol('json text');

/**
 * `JSON.parse`, remembering the text an object or array came from so that
 * {@link jsonText} can forward it without serialising it again: what an
 * upstream answered (a body, a stream event) usually goes to the client
 * unchanged, and serialising it back cost as much as parsing it. Remembering
 * costs ~0.2 µs (a property the spread operator skips, where a `WeakMap` entry
 * cost as much and more garbage-collection work). Values parsed here are never
 * changed afterwards: code that alters an answer builds a new object (as the
 * translations and usage stripping do), which has no text.
 */
export function parseJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'object' && value !== null) Object.defineProperty(value, TEXT, { value: text });
  return value;
}

/** The JSON of `value`: the text it was parsed from, if any, else `JSON.stringify`. */
export function jsonText(value: unknown): string {
  return (typeof value === 'object' && value !== null && (value as { [TEXT]?: string })[TEXT]) || JSON.stringify(value);
}
