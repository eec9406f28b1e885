import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from './app-config';

/**
 * Fills in the secrets the operator did not set. Outside production SECRET_KEY
 * is generated once into the data directory (so restarts can still decrypt what
 * was stored) and JWT_SECRET is derived from it.
 */
export function resolveSecrets(config: AppConfig): AppConfig {
  const secretKey = config.secretKey ?? readOrCreateSecretKey(config.database.dataDir);
  const jwtSecret = config.jwtSecret ?? deriveSecret(secretKey, 'jwt');
  return { ...config, secretKey, jwtSecret };
}

/** A purpose-bound 32-byte key (hex) derived from the master secret. */
export function deriveSecret(secretKey: string, purpose: string): string {
  return Buffer.from(hkdfSync('sha256', secretKey, 'llm-gateway', purpose, 32)).toString('hex');
}

function readOrCreateSecretKey(dataDir: string): string {
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}
