import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy, hasTestPostgres } from '@app/testing';
import { DatabaseUnavailableError } from './database';
import { isDatabaseUnavailable } from './database-errors';
import { PostgresDriver } from './postgres.driver';

const serverUrl = process.env.TEST_DATABASE_URL;
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close().catch(() => undefined)));
});

function open(url: string, options: Parameters<typeof PostgresDriver.create>[1]): PostgresDriver {
  const driver = PostgresDriver.create(url, options);
  opened.push(driver);
  return driver;
}

/** The error `promise` rejects with (the test fails if it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a failure'),
    (error: unknown) => error,
  );
}

describe.skipIf(!hasTestPostgres())('PostgresDriver on a server that stops answering', () => {
  it('fails a query left unanswered after the query timeout, and tells it from an SQL error', async () => {
    const { proxy, url } = await TcpProxy.before(serverUrl!);
    opened.push(proxy);
    const driver = open(url, { max: 2, queryTimeoutMs: 300 });
    expect(await driver.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    proxy.blackhole();
    const started = Date.now();
    const timedOut = await failureOf(driver.query('SELECT 2'));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(isDatabaseUnavailable(timedOut)).toBe(true);
    proxy.restore();
    expect(await driver.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
    // SQL errors, on a driver whose timeout a loaded machine cannot reach (a new connection under the
    // 300 ms above sometimes took longer in CI, and the error was then the timeout's).
    const patient = open(url, { max: 1, queryTimeoutMs: 30_000 });
    const syntax = await failureOf(patient.query('SELEKT 1'));
    expect(isDatabaseUnavailable(syntax)).toBe(false);
    const division = await failureOf(patient.query('SELECT 1 / 0'));
    expect(isDatabaseUnavailable(division)).toBe(false);
  });

  it('tells a refused connection as unavailable, as the boot error that gives up on it', async () => {
    const driver = open('postgresql://nobody@127.0.0.1:9/nothing', { max: 1 });
    const refused = await failureOf(driver.query('SELECT 1'));
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(new DatabaseUnavailableError('postgresql://x@h/db', 1000, refused as Error))).toBe(
      true,
    );
    expect(isDatabaseUnavailable(new Error('something else', { cause: refused }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
  });

  it('drops a connection given back with its query still unanswered, so the next query does not wait behind it', async () => {
    const driver = open(serverUrl!, { max: 1, queryTimeoutMs: 300 });
    const client = await driver.pool.connect();
    // The server is busy for 3 s; the client gives up after 300 ms, and is given back
    // without an error (as a transaction's client is, by Prisma's adapter too).
    expect(isDatabaseUnavailable(await failureOf(client.query('SELECT pg_sleep(3)')))).toBe(true);
    client.release();
    const started = Date.now();
    expect(await driver.query('SELECT 4 AS four')).toEqual([{ four: 4 }]);
    // Behind the sleeping query it would have waited ~2.7 s (and timed out itself).
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('does not bound transactions (migrations may run long) nor the wait for a session lock', async () => {
    const driver = open(serverUrl!, { max: 2, queryTimeoutMs: 200 });
    const rows = await driver.transaction(async (tx) =>
      tx.query<{ slept: string }>('SELECT pg_sleep(0.5)::text AS slept'),
    );
    expect(rows).toEqual([{ slept: '' }]);
    expect(await driver.withAdvisoryLock(4242, async () => 'locked')).toBe('locked');
  });
});
