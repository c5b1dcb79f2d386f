import { Database } from './binding.js';
import { sqliteCode, StoreOpenError } from './errors.js';
import type { Durability, SqliteJobStoreOptions } from './options.js';

/**
 * Opens the file with the store's settings and takes its lock, or throws the
 * {@link StoreOpenError} that says why it cannot.
 */
export function openDatabase(
  path: string,
  durability: Durability,
  options: SqliteJobStoreOptions,
): Database {
  let db: Database;
  try {
    // A short busy timeout: a file held by another server is refused at once.
    db = new Database(path, { timeout: 100 });
  } catch (error) {
    throw openError(error, path);
  }
  try {
    // Held for as long as the store is open: no second server, and no shared-memory index.
    db.pragma('locking_mode = EXCLUSIVE');
    const fresh = (db.pragma('page_count', { simple: true }) as number) === 0;
    // Must come before the first table, so that freed pages can be given back.
    if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
    db.pragma(`synchronous = ${durability === 'power-loss' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`journal_size_limit = ${options.walLimit ?? 64 * 1024 * 1024}`);
    if (options.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
    // Takes the lock now rather than at the first write.
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (error) {
    db.close();
    throw openError(error, path);
  }
  return db;
}

/** An SQLite failure at open, as the reason a person can act on. */
export function openError(error: unknown, path: string): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const message = error instanceof Error ? error.message : String(error);
  switch (sqliteCode(error)) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StoreOpenError(
        'LOCKED',
        path,
        `${path} is in use by another geartrain server (or another program holds a lock on ` +
          `it). Two servers on one store would run every job twice; stop the other one or ` +
          `choose another file.`,
        error,
      );
    case 'SQLITE_READONLY':
      return new StoreOpenError(
        'READ_ONLY',
        path,
        `${path} cannot be written (${message}): check the permissions of the file and of ` +
          `its folder, which must hold the write-ahead log beside it.`,
        error,
      );
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new StoreOpenError(
        'CORRUPT',
        path,
        `${path} is not a usable SQLite database (${message}). It was left untouched: move ` +
          `it aside (and keep it, it may hold jobs) to start with an empty store.`,
        error,
      );
    default:
      return new StoreOpenError('CANNOT_OPEN', path, `cannot open ${path}: ${message}`, error);
  }
}
