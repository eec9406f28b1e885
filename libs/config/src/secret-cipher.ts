import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AppConfig } from './app-config';
import { deriveSecret } from './secrets';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A stored secret could not be decrypted: tampered with, truncated, or written under another SECRET_KEY. */
export class SecretDecryptionError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt a stored secret: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * Encrypts secrets at rest (provider API keys, webhook secrets) with AES-256-GCM
 * under a key derived from SECRET_KEY for this purpose only. The stored form is
 * `v1:<iv>:<tag>:<ciphertext>`, each part base64url, so the format can evolve
 * (a `v2`) without guessing what an old row holds.
 */
export class SecretCipher {
  private readonly key: Buffer;

  constructor(secretKey: string, purpose = 'provider-credentials') {
    if (!secretKey) throw new Error('SecretCipher needs SECRET_KEY');
    this.key = Buffer.from(deriveSecret(secretKey, purpose), 'hex');
  }

  /** The cipher for provider credentials under the configured SECRET_KEY (resolved at boot). */
  static fromConfig(config: Pick<AppConfig, 'secretKey'>): SecretCipher {
    if (!config.secretKey) throw new Error('SECRET_KEY is not resolved: call resolveSecrets() at boot');
    return new SecretCipher(config.secretKey);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join(':');
  }

  /**
   * Whether `text` has the form of {@link encrypt}'s output (the version, then an IV, a tag
   * and a ciphertext in base64url): a value stored before its field was encrypted has not.
   */
  static isSealed(text: string): boolean {
    const parts = text.split(':');
    return (
      parts.length === 4 &&
      parts[0] === VERSION &&
      parts.every((p) => BASE64URL.test(p)) &&
      Buffer.from(parts[1], 'base64url').length === IV_BYTES &&
      Buffer.from(parts[2], 'base64url').length === TAG_BYTES
    );
  }

  /** @throws SecretDecryptionError when the blob is malformed, altered or from another key. */
  decrypt(blob: string): string {
    const parts = blob.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretDecryptionError('unknown format');
    if (!parts.every((p) => BASE64URL.test(p))) throw new SecretDecryptionError('malformed');
    const [iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretDecryptionError('malformed');
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('it was altered or encrypted under another SECRET_KEY');
    }
  }
}
