import { describe, expect, it } from 'vitest';
import { SecretCipher, SecretDecryptionError } from './secret-cipher';

const KEY = 'k'.repeat(43);

function flip(part: string): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[0] ^= 0x01;
  return bytes.toString('base64url');
}

describe('SecretCipher', () => {
  const cipher = new SecretCipher(KEY);

  it.each(['sk-live-0123456789', '', 'ünïcødé 🔑', 'x'.repeat(10_000)])('round-trips %j', (secret) => {
    const blob = cipher.encrypt(secret);
    expect(blob).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]*$/);
    expect(cipher.decrypt(blob)).toBe(secret);
  });

  it('tells its own blobs from values stored in clear', () => {
    expect(SecretCipher.isSealed(cipher.encrypt('a header value'))).toBe(true);
    expect(SecretCipher.isSealed(cipher.encrypt(''))).toBe(true);
    for (const clear of ['Bearer abc', 'v1:abc', 'v1:a:b:c', 'v2:' + cipher.encrypt('x').slice(3), '']) {
      expect(SecretCipher.isSealed(clear)).toBe(false);
    }
  });

  it('never writes the plaintext and uses a fresh IV each time', () => {
    const a = cipher.encrypt('sk-secret-value');
    const b = cipher.encrypt('sk-secret-value');
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-secret');
    expect(Buffer.from(a.split(':')[3], 'base64url').toString('utf8')).not.toContain('secret');
  });

  it('agrees with another instance under the same SECRET_KEY (restart, replica)', () => {
    expect(SecretCipher.fromConfig({ secretKey: KEY }).decrypt(cipher.encrypt('shared'))).toBe('shared');
  });

  it.each([
    ['the ciphertext', 3],
    ['the tag', 2],
    ['the iv', 1],
  ])('rejects a blob whose %s was altered', (_name, index) => {
    const parts = cipher.encrypt('sk-secret-value').split(':');
    parts[index] = flip(parts[index]);
    expect(() => cipher.decrypt(parts.join(':'))).toThrow(SecretDecryptionError);
  });

  it('rejects a blob written under another SECRET_KEY', () => {
    const other = new SecretCipher('o'.repeat(43));
    expect(() => other.decrypt(cipher.encrypt('sk-secret-value'))).toThrow(/another SECRET_KEY/);
  });

  it('derives a key per purpose', () => {
    const webhooks = new SecretCipher(KEY, 'tool-webhooks');
    expect(() => webhooks.decrypt(cipher.encrypt('x'))).toThrow(SecretDecryptionError);
  });

  it.each(['', 'plaintext', 'v2:a:b:c', 'v1:a:b', 'v1:!!:??:..', 'v1:AAAA:AAAA:AAAA'])(
    'rejects the malformed blob %j without leaking it',
    (blob) => {
      let error: unknown;
      try {
        cipher.decrypt(blob);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SecretDecryptionError);
      if (blob.length > 3) expect((error as Error).message).not.toContain(blob);
    },
  );

  it('refuses to work without a key', () => {
    expect(() => SecretCipher.fromConfig({ secretKey: undefined })).toThrow(/SECRET_KEY/);
    expect(() => new SecretCipher('')).toThrow(/SECRET_KEY/);
  });
});
