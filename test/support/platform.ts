import { createHash } from 'node:crypto';
import { loadConfig, resolveSecrets, type AppConfig } from '@app/config';
import { type HttpApp, listen, shutdownHttpApps } from '@app/server';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { createAdminApp, ensureFirstAdmin } from '../../apps/admin/src/admin.app';
import { createGatewayApp } from '../../apps/gateway/src/gateway.app';

export const TEST_MASTER_KEY = 'sk-test-master-key-0123456789abcdef';
export const TEST_ADMIN = { email: 'admin@test.local', password: 'correct horse battery staple' };

export interface StartOptions {
  /** Extra environment (REDIS_URL, provider variables...). */
  env?: Record<string, string | undefined>;
  /** Which apps to start (default both). */
  apps?: Array<'gateway' | 'admin'>;
  /** Reuse a database (two platforms on one database); by default a fresh one is made and dropped on close. */
  database?: TestDatabase;
  databaseKind?: 'default' | 'pglite' | 'postgres';
}

/** Both apps of the platform on ephemeral ports over a database of their own. */
export interface TestPlatform {
  config: AppConfig;
  database: TestDatabase;
  gateway?: HttpApp;
  admin?: HttpApp;
  gatewayUrl: string;
  adminUrl: string;
  close(): Promise<void>;
}

function deploymentSecret(database: TestDatabase, purpose: string): string {
  return createHash('sha256')
    .update(`test-${purpose}:${database.env.DATABASE_URL ?? database.env.DATA_DIR}`)
    .digest('base64');
}

/** Boots the real apps, in process, the way `npm start` does, on 127.0.0.1 ephemeral ports. */
export async function startPlatform(options: StartOptions = {}): Promise<TestPlatform> {
  const apps = options.apps ?? ['gateway', 'admin'];
  const database = options.database ?? (await createTestDatabase(options.databaseKind));
  const config = resolveSecrets(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      HOST: '127.0.0.1',
      MASTER_KEY: TEST_MASTER_KEY,
      // Replicas of one deployment share SECRET_KEY and their Redis namespace: derive both
      // from the database they share, so parallel test files never hear each other.
      SECRET_KEY: deploymentSecret(database, 'secret'),
      REDIS_PREFIX: `gwtest-${deploymentSecret(database, 'redis')
        .slice(0, 12)
        .replace(/[^A-Za-z0-9]/g, 'x')}:`,
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      SHUTDOWN_TIMEOUT_MS: '2000',
      ...database.env,
      ...options.env,
    }),
  );
  const started: HttpApp[] = [];
  try {
    const gateway = apps.includes('gateway') ? await createGatewayApp(config) : undefined;
    if (gateway) started.push(gateway);
    const admin = apps.includes('admin') ? await createAdminApp(config) : undefined;
    if (admin) {
      started.push(admin);
      await ensureFirstAdmin(admin);
    }
    const gatewayUrl = gateway ? await listen(gateway, 0, '127.0.0.1') : '';
    const adminUrl = admin ? await listen(admin, 0, '127.0.0.1') : '';
    return {
      config,
      database,
      gateway,
      admin,
      gatewayUrl,
      adminUrl,
      close: async () => {
        await shutdownHttpApps(started, 2_000);
        if (!options.database) await database.drop();
      },
    };
  } catch (error) {
    await Promise.all(started.map((a) => a.app.close().catch(() => undefined)));
    if (!options.database) await database.drop();
    throw error;
  }
}
