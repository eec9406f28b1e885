import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PgliteDriver } from '@app/db';

/** Set by the test global setup: where this run's migrated template lives. */
export const TEMPLATE_ENV = {
  /** PostgreSQL: URL of the server (any database), from TEST_DATABASE_URL. */
  serverUrl: 'TEST_DATABASE_URL',
  /** PostgreSQL: name of this run's migrated template database. */
  pgTemplate: 'GW_TEST_PG_TEMPLATE',
  /** PGlite: path of this run's migrated data-dir dump (tar.gz). */
  pgliteDump: 'GW_TEST_PGLITE_DUMP',
  /** PGlite: path of an initialised but empty cluster dump, for migration tests. */
  pgliteEmptyDump: 'GW_TEST_PGLITE_EMPTY_DUMP',
  /** Prefix of every database this run creates, so teardown can drop them. */
  runPrefix: 'GW_TEST_RUN_PREFIX',
} as const;

/** A migrated database of its own for one test file (or one test). */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Environment for the apps: DATABASE_URL (PostgreSQL) or DATA_DIR (PGlite). */
  env: { DATABASE_URL?: string; DATA_DIR: string };
  /** PostgreSQL only: a second database URL, for tests that need two. */
  url?: string;
  drop(): Promise<void>;
}

/**
 * Clones this run's migrated template: `CREATE DATABASE ... TEMPLATE` on
 * PostgreSQL (~0.1 s), a restored data-dir dump on PGlite (~1 s), instead of
 * migrating from scratch every time. `default` is PostgreSQL when
 * TEST_DATABASE_URL is set, PGlite otherwise.
 */
export async function createTestDatabase(kind: 'default' | 'pglite' | 'postgres' = 'default'): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  const serverUrl = process.env[TEMPLATE_ENV.serverUrl];
  if (kind === 'postgres' && !serverUrl) throw new Error('A PostgreSQL test database needs TEST_DATABASE_URL');
  if (serverUrl && kind !== 'pglite') {
    const template = requireEnv(TEMPLATE_ENV.pgTemplate);
    const name = `${requireEnv(TEMPLATE_ENV.runPrefix)}${randomBytes(4).toString('hex')}`;
    await withServer(serverUrl, (client) => createFromTemplate(client, name, template));
    const url = databaseUrl(serverUrl, name);
    return {
      kind: 'postgres',
      url,
      env: { DATABASE_URL: url, DATA_DIR: dataDir },
      drop: async () => {
        await withServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const dump = new Blob([readFileSync(requireEnv(TEMPLATE_ENV.pgliteDump))]);
  const driver = await PgliteDriver.open(join(dataDir, 'pglite'), { loadDataDir: dump });
  await driver.close();
  return {
    kind: 'pglite',
    env: { DATA_DIR: dataDir },
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Whether this run has a PostgreSQL server (TEST_DATABASE_URL). */
export function hasTestPostgres(): boolean {
  return Boolean(process.env[TEMPLATE_ENV.serverUrl]);
}

/** An empty (unmigrated) in-memory PGlite, restored from a dump (~0.5 s instead of ~4 s). */
export async function openEmptyPglite(): Promise<PgliteDriver> {
  return PgliteDriver.open(undefined, { loadDataDir: new Blob([readFileSync(requireEnv(TEMPLATE_ENV.pgliteEmptyDump))]) });
}

/** An empty (unmigrated) database, for tests of the migration runner itself. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const serverUrl = process.env[TEMPLATE_ENV.serverUrl];
  if (!serverUrl) return undefined;
  const name = `${requireEnv(TEMPLATE_ENV.runPrefix)}${randomBytes(4).toString('hex')}`;
  await withServer(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    url: databaseUrl(serverUrl, name),
    drop: () => withServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withServer<T>(serverUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createFromTemplate(client: Client, name: string, template: string): Promise<void> {
  // Parallel workers cloning one template can collide ("being accessed by other users"): retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      return;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
    }
  }
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through vitest (test/global-setup.ts)`);
  return value;
}
