import { openDatabase, type Database, type DatabaseOptions } from './database';

interface Entry {
  database: Promise<Database>;
  references: number;
}

/**
 * One open database per process and location, shared by every Nest app that
 * asks for it (both apps run in one process on PGlite, which allows a single
 * connection). Closed when the last app releases it.
 */
export class DatabaseRegistry {
  private readonly entries = new Map<string, Entry>();

  async acquire(options: DatabaseOptions): Promise<Database> {
    const key = options.url ?? `pglite:${options.dataDir}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { database: openDatabase(options), references: 0 };
      this.entries.set(key, entry);
      entry.database.catch(() => this.entries.delete(key));
    }
    entry.references++;
    return entry.database;
  }

  async release(database: Database): Promise<void> {
    for (const [key, entry] of this.entries) {
      if ((await entry.database) !== database) continue;
      entry.references--;
      if (entry.references === 0) {
        this.entries.delete(key);
        await database.close();
      }
      return;
    }
  }
}

export const databaseRegistry = new DatabaseRegistry();
