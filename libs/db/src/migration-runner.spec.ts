import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmptyPostgresDatabase, hasTestPostgres, openEmptyPglite } from '@app/testing';
import { MigrationError, readMigrations, runMigrations } from './migration-runner';
import { PgliteDriver } from './pglite.driver';
import { PostgresDriver } from './postgres.driver';
import type { SqlDriver } from './sql-driver';

const migrationsDir = join(__dirname, '..', '..', '..', 'prisma', 'migrations');

interface Row {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  logs: string | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

type Open = () => Promise<{ driver: SqlDriver; reopen: () => Promise<SqlDriver>; cleanup: () => Promise<void> }>;

const targets: Array<[string, Open]> = [
  [
    'pglite',
    async () => {
      const driver = await openEmptyPglite();
      return { driver, reopen: async () => driver, cleanup: () => driver.close() };
    },
  ],
];
if (hasTestPostgres()) {
  targets.push([
    'postgres',
    async () => {
      const db = (await createEmptyPostgresDatabase())!;
      const opened: SqlDriver[] = [];
      const open = async () => {
        const driver = PostgresDriver.create(db.url, { max: 4 });
        opened.push(driver);
        return driver;
      };
      return {
        driver: await open(),
        reopen: open,
        cleanup: async () => {
          await Promise.all(opened.map((d) => d.close()));
          await db.drop();
        },
      };
    },
  ]);
}

/** A copy of the real migrations folder that a test may edit. */
function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-migrations-'));
  cpSync(migrationsDir, dir, { recursive: true });
  return dir;
}

describe.each(targets)('migration runner on %s', (_kind, open) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  async function empty() {
    const target = await open();
    cleanups.push(target.cleanup);
    return target;
  }

  it('applies every migration to an empty database and records it as Prisma does', async () => {
    const { driver } = await empty();
    const files = readMigrations(migrationsDir);
    const result = await runMigrations(driver, files);
    expect(result.applied).toEqual(files.map((f) => f.name));
    const rows = await driver.query<Row>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows).toHaveLength(files.length);
    for (const [i, row] of rows.entries()) {
      const sql = readFileSync(join(migrationsDir, files[i].name, 'migration.sql'));
      expect(row).toMatchObject({
        migration_name: files[i].name,
        checksum: createHash('sha256').update(sql).digest('hex'),
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1,
      });
      expect(row.finished_at).toBeInstanceOf(Date);
    }
    const tables = await driver.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['teams', 'api_keys', 'usage_records']));
  });

  it('is a no-op when run again', async () => {
    const { driver } = await empty();
    const files = readMigrations(migrationsDir);
    await runMigrations(driver, files);
    const again = await runMigrations(driver, files);
    expect(again).toEqual({ applied: [], alreadyApplied: files.length });
    const [{ count }] = await driver.query<{ count: string }>('SELECT count(*) AS count FROM "_prisma_migrations"');
    expect(Number(count)).toBe(files.length);
  });

  it('refuses to start when an applied migration file has changed', async () => {
    const { driver } = await empty();
    const dir = copyOfMigrations();
    await runMigrations(driver, readMigrations(dir));
    const first = readMigrations(dir)[0];
    writeFileSync(join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited afterwards\n`);
    await expect(runMigrations(driver, readMigrations(dir))).rejects.toThrow(
      new RegExp(`Migration ${first.name} was changed after it was applied`),
    );
    await expect(runMigrations(driver, readMigrations(dir))).rejects.toBeInstanceOf(MigrationError);
  });

  it('applies a new migration and rolls a failing one back whole', async () => {
    const { driver } = await empty();
    const dir = copyOfMigrations();
    await runMigrations(driver, readMigrations(dir));
    cpSync(join(dir, readMigrations(dir)[0].name), join(dir, '99990101000000_noop'), { recursive: true });
    writeFileSync(join(dir, '99990101000000_noop', 'migration.sql'), 'CREATE TABLE "extra" ("id" INTEGER);');
    expect((await runMigrations(driver, readMigrations(dir))).applied).toEqual(['99990101000000_noop']);

    cpSync(join(dir, '99990101000000_noop'), join(dir, '99990102000000_broken'), { recursive: true });
    writeFileSync(
      join(dir, '99990102000000_broken', 'migration.sql'),
      'CREATE TABLE "half" ("id" INTEGER);\nALTER TABLE "missing_table" ADD COLUMN "x" INTEGER;',
    );
    await expect(runMigrations(driver, readMigrations(dir))).rejects.toThrow(
      /99990102000000_broken failed and was rolled back/,
    );
    const half = await driver.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half'");
    expect(half).toHaveLength(0);
    const recorded = await driver.query<Row>(`SELECT * FROM "_prisma_migrations" WHERE migration_name LIKE '9999%'`);
    expect(recorded.map((r) => r.migration_name)).toEqual(['99990101000000_noop']);
  });

  it('turns the reference rows marked in config into external provider rows', async () => {
    const { driver } = await empty();
    const files = readMigrations(migrationsDir);
    const at = files.findIndex((f) => f.name.endsWith('_provider_external_rows'));
    await runMigrations(driver, files.slice(0, at));
    await driver.query(
      `INSERT INTO providers (id, name, kind, config, updated_at) VALUES
         (gen_random_uuid(), 'openai', 'openai', '{"$reference": "external"}', now()),
         (gen_random_uuid(), 'vendor', 'openai-compatible', '{"headers": {"x-a": "b"}}', now())`,
    );
    await runMigrations(driver, files);
    const rows = await driver.query<{ name: string; external: boolean; config: unknown }>(
      'SELECT name, external, config FROM providers ORDER BY name',
    );
    expect(rows).toEqual([
      { name: 'openai', external: true, config: null },
      { name: 'vendor', external: false, config: { headers: { 'x-a': 'b' } } },
    ]);
    // A stored provider may now take the name of an external one, but not of another stored one.
    await driver.query(
      `INSERT INTO providers (id, name, kind, updated_at) VALUES (gen_random_uuid(), 'openai', 'openai', now())`,
    );
    await expect(
      driver.query(
        `INSERT INTO providers (id, name, kind, updated_at) VALUES (gen_random_uuid(), 'vendor', 'openai', now())`,
      ),
    ).rejects.toThrow(/unique/i);
  });

  it('applies each migration once when several processes boot together', async () => {
    const { driver, reopen } = await empty();
    const files = readMigrations(migrationsDir);
    const drivers = [driver, await reopen(), await reopen(), await reopen()];
    const results = await Promise.all(drivers.map((d) => runMigrations(d, files)));
    const appliedCount = results.reduce((sum, r) => sum + r.applied.length, 0);
    expect(appliedCount).toBe(files.length);
    const rows = await driver.query<Row>('SELECT * FROM "_prisma_migrations"');
    expect(rows).toHaveLength(files.length);
  });
});

describe('embedded database lock', () => {
  it('refuses a second open of the same data directory while the first holds it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gw-lock-')), 'pglite');
    const first = await PgliteDriver.open(dir);
    try {
      await expect(PgliteDriver.open(dir)).rejects.toThrow(/in use by another process/);
    } finally {
      await first.close();
    }
    const again = await PgliteDriver.open(dir);
    await again.close();
  });
});
