import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MigrationFile, PgliteDriver, PostgresDriver, readMigrations, runMigrations } from '@app/db';
import { TEMPLATE_ENV, databaseUrl, withServer } from '@app/testing';

const root = join(__dirname, '..');

/**
 * Migrates one template database per test run — on the PostgreSQL server of
 * TEST_DATABASE_URL when set, else an embedded PGlite dumped to a file — that
 * every test file clones. Teardown drops everything the run created.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = `gwtest_${runId}_`;
  process.env[TEMPLATE_ENV.runPrefix] = prefix;
  const migrations = readMigrations(join(root, 'prisma', 'migrations'));
  const serverUrl = process.env[TEMPLATE_ENV.serverUrl];

  const dir = join(root, '.test-data', runId);
  mkdirSync(dir, { recursive: true });
  const driver = await PgliteDriver.open(undefined);
  const empty = await driver.db.dumpDataDir('gzip');
  writeFileSync(join(dir, 'empty.tgz'), Buffer.from(await empty.arrayBuffer()));
  process.env[TEMPLATE_ENV.pgliteEmptyDump] = join(dir, 'empty.tgz');
  await runMigrations(driver, migrations);
  const dump = await driver.db.dumpDataDir('gzip');
  await driver.close();
  const file = join(dir, 'template.tgz');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env[TEMPLATE_ENV.pgliteDump] = file;
  const dropPostgres = serverUrl ? await createPostgresTemplate(serverUrl, prefix, migrations) : undefined;
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropPostgres?.();
  };
}

async function createPostgresTemplate(
  serverUrl: string,
  prefix: string,
  migrations: MigrationFile[],
): Promise<() => Promise<void>> {
  const template = `${prefix}template`;
  await withServer(serverUrl, (client) => client.query(`CREATE DATABASE "${template}"`));
  const driver = PostgresDriver.create(databaseUrl(serverUrl, template), { max: 2 });
  await runMigrations(driver, migrations);
  await driver.close();
  process.env[TEMPLATE_ENV.pgTemplate] = template;
  return async () => {
    await withServer(serverUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`${prefix}%`],
      );
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    });
  };
}
