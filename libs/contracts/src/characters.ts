// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Whether `text` holds a control character (C0 or DEL): never right in a model name, a URL or a header. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** Characters a header value may not carry as they are: controls, and anything past ASCII (Node sends Latin-1 at best). */
const UNSAFE_IN_HEADER = /[^\t\x20-\x7e]/;

/**
 * `value` as a response header can carry it: unchanged when it is printable
 * ASCII, percent-encoded (`encodeURIComponent`) otherwise, as a model named
 * `模型` would be. Node throws on such a value, after the answer is in hand. An
 * unpaired surrogate (which `encodeURIComponent` throws on: an upstream may name
 * its model so) is encoded as U+FFFD.
 */
export function headerValue(value: string): string {
  return UNSAFE_IN_HEADER.test(value) ? encodeURIComponent(value.toWellFormed()) : value;
}
