/**
 * The raw SQL driver under Prisma, for what Prisma's adapters cannot do:
 * multi-statement migration scripts, session locks and connection checks.
 */
export interface SqlDriver {
  readonly kind: 'postgres' | 'pglite';
  /** Runs a query with parameters and returns its rows. */
  query<T extends object>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs `fn` on one connection inside BEGIN/COMMIT (ROLLBACK on error).
   * `exec` in it may run a multi-statement script.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Runs `fn` while holding a PostgreSQL session advisory lock on one connection. */
  withAdvisoryLock<T>(lockId: number, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlTransaction {
  exec(script: string): Promise<void>;
  query<T extends object>(sql: string, params?: unknown[]): Promise<T[]>;
}
