/** Characters a header value may not carry as they are: controls, and anything past ASCII (Node sends Latin-1 at best). */
const UNSAFE = /[^\t\x20-\x7e]/;

/**
 * `value` as a response header can carry it: unchanged when it is printable
 * ASCII, percent-encoded (`encodeURIComponent`) otherwise, as a model named
 * `模型` would be. Node throws on such a value, after the answer is in hand.
 */
export function headerValue(value: string): string {
  return UNSAFE.test(value) ? encodeURIComponent(value) : value;
}
