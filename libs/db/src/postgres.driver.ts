import { Pool, type PoolClient } from 'pg';
import type { SqlDriver, SqlTransaction } from './sql-driver';

/** {@link SqlDriver} over a `pg` pool; the same pool backs Prisma's adapter. */
export class PostgresDriver implements SqlDriver {
  readonly kind = 'postgres' as const;

  constructor(readonly pool: Pool) {}

  static create(url: string, max = 10): PostgresDriver {
    const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
    // An idle client losing its server (restart, failover) must not crash the process.
    pool.on('error', () => undefined);
    return new PostgresDriver(pool);
  }

  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.pool.query<T>(sql, params);
    return result.rows;
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await fn({
          exec: async (script) => void (await client.query(script)),
          query: async <R extends object>(sql: string, params: unknown[] = []) =>
            (await client.query<R>(sql, params)).rows,
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async withAdvisoryLock<T>(lockId: number, fn: () => Promise<T>): Promise<T> {
    // Held on one dedicated client, so lock and unlock share a session.
    return this.withClient(async (client) => {
      await client.query('SELECT pg_advisory_lock($1)', [lockId]);
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
    const client = await this.pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }
}
