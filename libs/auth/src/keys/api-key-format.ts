import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 32 random bytes are at most 43 base62 digits; keys are padded to exactly that. */
const BODY_LENGTH = 43;
const KEY_PATTERN = /^sk-[0-9A-Za-z]{43}$/;
/** Longer header values are rejected before any work (no hashing, no lookup). */
export const MAX_KEY_LENGTH = 256;

export interface GeneratedApiKey {
  /** `sk-` + 43 base62 characters; shown once, never stored. */
  plaintext: string;
  /** SHA-256 hex of the plaintext: what the database keeps. */
  hash: string;
  /** `sk-` + the first 8 characters + `…`, for lists and logs. */
  prefix: string;
}

function base62(bytes: Buffer): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(BODY_LENGTH, '0');
}

export function generateApiKey(): GeneratedApiKey {
  const plaintext = `sk-${base62(randomBytes(32))}`;
  return { plaintext, hash: hashApiKey(plaintext), prefix: displayPrefix(plaintext) };
}

export function hashApiKey(key: string): string {
  return sha256(key).toString('hex');
}

/** SHA-256 of a secret (UTF-8): what keys are stored and compared as (one-shot `crypto.hash`: a third of `createHash`'s cost). */
export function sha256(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

export function displayPrefix(key: string): string {
  return `${key.slice(0, 11)}…`;
}

/** Whether `value` has the shape of a key this platform issues (anything else cannot exist in the database). */
export function isWellFormedApiKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
