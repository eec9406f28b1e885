const texts = new WeakMap<object, string>();

/**
 * `JSON.parse`, remembering the text an object or array came from so that
 * {@link jsonText} can forward it without serialising it again: what an
 * upstream answered usually goes to the client unchanged, and serialising it
 * back cost as much as parsing it (remembering costs ~0.5 µs, so small values
 * such as stream events are better parsed plainly and serialised). Values
 * parsed here are never changed afterwards: code that alters an answer builds
 * a new object (as the translations and usage stripping do), which has no text.
 */
export function parseJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'object' && value !== null) texts.set(value, text);
  return value;
}

/** The JSON of `value`: the text it was parsed from, if any, else `JSON.stringify`. */
export function jsonText(value: unknown): string {
  return (typeof value === 'object' && value !== null && texts.get(value)) || JSON.stringify(value);
}
