import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { markDatabaseError, throwMarked } from './database-origin';
import type { SqlDriver, SqlTransaction } from './sql-driver';

/**
 * {@link SqlDriver} over the embedded PGlite. PGlite has one connection and no
 * protection against a second process opening the same directory, so the
 * driver holds a lock file for as long as it is open.
 */
export class PgliteDriver implements SqlDriver {
  readonly kind = 'pglite' as const;
  private readonly locks = new Map<number, Promise<void>>();

  private constructor(
    readonly db: PGlite,
    private readonly lockFile?: string,
  ) {}

  /** Opens (creating when new) the database in `dir`; `undefined` is in-memory. */
  static async open(dir: string | undefined, options: { loadDataDir?: Blob } = {}): Promise<PgliteDriver> {
    let lockFile: string | undefined;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      lockFile = acquireLockFile(join(dir, '..', `${dir.split(/[\\/]/).pop()}.lock`));
    }
    try {
      const db = new PGlite(dir, { loadDataDir: options.loadDataDir });
      await db.waitReady;
      return new PgliteDriver(db, lockFile);
    } catch (error) {
      if (lockFile) rmSync(lockFile, { force: true });
      throw error;
    }
  }

  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.db.query<T>(sql, params)).rows;
    } catch (error) {
      throw markDatabaseError(error);
    }
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) =>
      fn({
        exec: async (script) => void (await tx.exec(script).catch(throwMarked)),
        query: async <R extends object>(sql: string, params: unknown[] = []) =>
          (await tx.query<R>(sql, params).catch(throwMarked)).rows,
      }),
    );
  }

  async withAdvisoryLock<T>(lockId: number, fn: () => Promise<T>): Promise<T> {
    // The lock file keeps other processes out; within this one, callers queue per lock id.
    const previous = this.locks.get(lockId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(lockId, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(lockId) === settled) this.locks.delete(lockId);
    }
  }

  async close(): Promise<void> {
    try {
      if (!this.db.closed) await this.db.close();
    } finally {
      if (this.lockFile) rmSync(this.lockFile, { force: true });
    }
  }
}

/** Creates `path` exclusively; a lock left by a dead process is taken over. */
function acquireLockFile(path: string): string {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (owner === process.pid || isAlive(owner)) {
        throw new Error(
          `The embedded database is in use by another process (pid ${owner}); stop it, or set DATABASE_URL to share a PostgreSQL server.`,
          { cause: error },
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`Could not lock the embedded database (${path}).`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
