import { Pool, type PoolClient, type QueryConfig } from 'pg';
import { markDatabaseError, throwMarked } from './database-origin';
import type { SqlDriver, SqlTransaction } from './sql-driver';

/** How long the pool may wait for a connection (a new one, or a free one when all are busy). */
const CONNECT_TIMEOUT_MS = 5_000;
/** The longest `setTimeout` delay: a query given it is, in effect, not bounded. */
const UNBOUNDED_MS = 2 ** 31 - 1;

export interface PostgresDriverOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /**
   * How long a query may go unanswered before it fails (node-postgres'
   * `query_timeout`, default 30 s). A server that stops answering (a network
   * partition) then fails requests instead of holding them; migrations and
   * session locks are not bounded.
   */
  queryTimeoutMs?: number;
}

/** {@link SqlDriver} over a `pg` pool; the same pool backs Prisma's adapter. */
export class PostgresDriver implements SqlDriver {
  readonly kind = 'postgres' as const;

  constructor(readonly pool: Pool) {}

  static create(url: string, options: PostgresDriverOptions = {}): PostgresDriver {
    const pool = new Pool({
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      query_timeout: options.queryTimeoutMs ?? 30_000,
      // The kernel then notices a server gone silent on an idle connection.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle client losing its server (restart, failover) must not crash the process.
    pool.on('error', () => undefined);
    pool.on('release', (_error: Error | undefined, client: PoolClient) => dropIfStuck(client));
    return new PostgresDriver(pool);
  }

  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, params)).rows;
    } catch (error) {
      throw markDatabaseError(error);
    }
  }

  /** Not bounded by the query timeout: migrations may run long. */
  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      const run = <R extends object>(sql: string, params?: unknown[]) =>
        client.query<R>(unbounded(sql, params)).catch(throwMarked);
      await run('BEGIN');
      try {
        const result = await fn({
          exec: async (script) => void (await run(script)),
          query: async <R extends object>(sql: string, params: unknown[] = []) => (await run<R>(sql, params)).rows,
        });
        await run('COMMIT');
        return result;
      } catch (error) {
        await run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Not bounded by the query timeout: the lock waits for whoever holds it (another replica migrating). */
  async withAdvisoryLock<T>(lockId: number, fn: () => Promise<T>): Promise<T> {
    // Held on one dedicated client, so lock and unlock share a session.
    return this.withClient(async (client) => {
      await client.query(unbounded('SELECT pg_advisory_lock($1)', [lockId])).catch(throwMarked);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [lockId]).catch(() => undefined);
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(throwMarked);
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }
}

/** A query without the pool's timeout (node-postgres reads `query_timeout` per query; its types omit it). */
function unbounded(text: string, values?: unknown[]): QueryConfig {
  const config = { text, values, query_timeout: UNBOUNDED_MS };
  return config;
}

/**
 * A client given back while a query it sent is still unanswered (it timed out: the
 * server went silent) would hold every later query behind that one. Such a client
 * is ended, so the pool discards it and opens a fresh connection when needed.
 * (A transaction's client is given back without an error, by us or by Prisma's
 * adapter, even when its queries timed out.)
 */
function dropIfStuck(client: PoolClient): void {
  const state = client as PoolClient & { readyForQuery?: boolean; _ending?: boolean };
  if (state.readyForQuery === false && !state._ending) void client.end().catch(() => undefined);
}
