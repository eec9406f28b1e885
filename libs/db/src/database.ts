import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/prisma/client';
import { readMigrations, runMigrations, type MigrationResult } from './migration-runner';
import { PgliteDriver } from './pglite.driver';
import { PostgresDriver, type PostgresDriverOptions } from './postgres.driver';
import type { SqlDriver } from './sql-driver';

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent the embedded PGlite in `dataDir/pglite` is used. */
  url?: string;
  dataDir: string;
  migrationsDir: string;
  /** How long to keep retrying an unreachable database before giving up. */
  connectTimeoutMs: number;
  /** How long a PostgreSQL query may go unanswered before it fails (see {@link PostgresDriverOptions}). */
  queryTimeoutMs?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  poolSize?: number;
  log?: (message: string) => void;
}

/** An open database: the Prisma client for queries and the raw driver beneath it. */
export class Database {
  constructor(
    readonly prisma: PrismaClient,
    readonly driver: SqlDriver,
    readonly migrations: MigrationResult | undefined,
  ) {}

  get kind(): SqlDriver['kind'] {
    return this.driver.kind;
  }

  async ping(): Promise<void> {
    await this.driver.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect().catch(() => undefined);
    await this.driver.close();
  }
}

/** Opens the configured database, waiting for it to come up, and migrates it. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const log = options.log ?? (() => undefined);
  const driver = options.url
    ? await connectPostgres(
        options.url,
        options.connectTimeoutMs,
        { max: options.poolSize, queryTimeoutMs: options.queryTimeoutMs },
        log,
      )
    : await PgliteDriver.open(join(options.dataDir, 'pglite'));
  try {
    const migrations =
      options.migrate === false ? undefined : await runMigrations(driver, readMigrations(options.migrationsDir));
    if (migrations?.applied.length) log(`Applied migrations: ${migrations.applied.join(', ')}`);
    return new Database(createPrismaClient(driver), driver, migrations);
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
}

export function createPrismaClient(driver: SqlDriver): PrismaClient {
  const adapter =
    driver instanceof PostgresDriver
      ? new PrismaPg(driver.pool, { disposeExternalPool: false })
      : new PrismaPGlite((driver as PgliteDriver).db);
  return new PrismaClient({ adapter });
}

/** A database that is not reachable yet is retried with exponential backoff, within a bound. */
async function connectPostgres(
  url: string,
  timeoutMs: number,
  pool: PostgresDriverOptions,
  log: (message: string) => void,
): Promise<PostgresDriver> {
  const driver = PostgresDriver.create(url, pool);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await driver.query('SELECT 1');
      return driver;
    } catch (error) {
      const wait = Math.min(250 * 2 ** (attempt - 1), 5_000);
      if (Date.now() + wait > deadline) {
        await driver.close().catch(() => undefined);
        throw new DatabaseUnavailableError(url, timeoutMs, error as Error);
      }
      log(`Database not reachable (${(error as Error).message}); retrying in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

export class DatabaseUnavailableError extends Error {
  constructor(url: string, timeoutMs: number, cause: Error) {
    super(
      `Database ${redactUrl(url)} not reachable after ${Math.round(timeoutMs / 1000)} s: ${cause.message || cause.name}`,
      { cause },
    );
    this.name = 'DatabaseUnavailableError';
  }
}

/** Removes the password from a connection URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgresql://***';
  }
}
