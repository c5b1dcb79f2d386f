import { Database } from './binding.js';
import { hostname } from 'node:os';
import type { JobRecord } from '@geartrain/core';
import { StoreOpenError } from './errors.js';
import { gearmandQueueTables, readGearmandQueue } from './gearmand.js';
import type { SqliteJobStore } from './sqlite-store.js';

export interface ImportOptions {
  /** The gearmand table (`--libsqlite3-table`); default the one table shaped like gearmand's. */
  table?: string;
  /** Handles of the imported jobs are `<prefix>:<seq>`. Default `H:<hostname>`, as the server's. */
  handlePrefix?: string;
}

export interface ImportResult {
  /** Jobs written to the store. */
  readonly imported: number;
  /** Jobs the store already had (same function and unique id): an import run twice adds nothing. */
  readonly skipped: number;
}

/**
 * Moves the jobs of a gearmand libsqlite3 queue file into a geartrain store: each becomes a
 * background job with the next seq of the store, in the queue file's order, keeping its
 * function, unique id, priority, payload and time. The queue file is only read; once the
 * store has committed the jobs, it can be put away. An import repeated (after a crash
 * half-way) skips what the store already has: a job of the same function and unique id, or,
 * for a job without one, of the same function and payload.
 */
export async function importGearmandQueue(
  queueFile: string,
  store: SqliteJobStore,
  options: ImportOptions = {},
): Promise<ImportResult> {
  let db: Database;
  try {
    db = new Database(queueFile, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new StoreOpenError(
      'CANNOT_OPEN',
      queueFile,
      `cannot open ${queueFile}: ${String(error)}`,
      error,
    );
  }
  try {
    const tables = gearmandQueueTables(db);
    const table = options.table ?? (tables.length === 1 ? tables[0]! : undefined);
    if (table === undefined || !tables.includes(table)) {
      throw new StoreOpenError(
        'FOREIGN',
        queueFile,
        tables.length === 0
          ? `${queueFile} has no gearmand queue table`
          : `${queueFile} has several gearmand queue tables (${tables.join(', ')}): name one with --table`,
      );
    }
    const prefix = options.handlePrefix ?? `H:${hostname()}`;
    const present = new Set<string>();
    for (const r of store.list()) present.add(identity(r));
    let seq = store.highestSeq();
    let imported = 0;
    let skipped = 0;
    const writes: Promise<void>[] = [];
    for (const job of readGearmandQueue(db, table)) {
      const key = identity(job);
      if (present.has(key)) {
        skipped++;
        continue;
      }
      present.add(key);
      seq++;
      const record: JobRecord = {
        ...job,
        seq,
        id: `${prefix}:${seq}`,
        reducer: '',
        attempts: 0,
        retry: null,
      };
      writes.push(store.add(record));
      imported++;
    }
    store.flush();
    await Promise.all(writes);
    return { imported, skipped };
  } finally {
    db.close();
  }
}

/** What makes two jobs the same for an import run twice. */
function identity(job: { functionName: string; unique: string; payload: Buffer }): string {
  const tail = job.unique !== '' ? job.unique : `\0${job.payload.toString('base64')}`;
  return `${job.functionName}\0${tail}`;
}
