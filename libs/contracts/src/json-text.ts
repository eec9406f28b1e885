/** Where {@link parseJson} keeps the text: a non-enumerable own property, so copies (spreads, rest) never carry it. */
const TEXT = Symbol('json text');

/**
 * `JSON.parse`, remembering the text an object or array came from so that
 * {@link jsonText} can forward it without serialising it again: what an
 * upstream answered (a body, a stream event) usually goes to the client
 * unchanged, and serialising it back cost as much as parsing it. Remembering
 * costs ~0.3 µs (a property the spread operator skips, where a `WeakMap` entry
 * cost as much and more garbage-collection work). Values parsed here are never
 * changed afterwards: code that alters an answer builds a new object (as the
 * translations and usage stripping do), which has no text.
 */
export function parseJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'object' && value !== null) Object.defineProperty(value, TEXT, { value: text });
  return value;
}

/** How many of the latest {@link parseJsonEvent} values keep their text. */
const RECENT_EVENTS = 8;
const recentValues: unknown[] = new Array<unknown>(RECENT_EVENTS).fill(undefined);
const recentTexts: string[] = new Array<string>(RECENT_EVENTS).fill('');
let recentNext = 0;

/**
 * {@link parseJson} for a stream event, which is written (or dropped) in the
 * turn it was parsed in: its text is remembered among the latest
 * {@link RECENT_EVENTS} events' at no cost (a property cost a third of the
 * parse). An event still unwritten after that many others were parsed is
 * serialised, as anything else without a text.
 */
export function parseJsonEvent(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'object' && value !== null) {
    recentValues[recentNext] = value;
    recentTexts[recentNext] = text;
    recentNext = (recentNext + 1) % RECENT_EVENTS;
  }
  return value;
}

/** The JSON of `value`: the text it was parsed from, if any, else `JSON.stringify`. */
export function jsonText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  for (let i = 0; i < RECENT_EVENTS; i++) if (recentValues[i] === value) return recentTexts[i];
  return (value as { [TEXT]?: string })[TEXT] ?? JSON.stringify(value);
}
