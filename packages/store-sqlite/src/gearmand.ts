import type Database from 'better-sqlite3';
import type { Priority } from '@geartrain/core';

/** The columns of gearmand's libsqlite3 queue table (libgearman-server/plugins/queue/sqlite). */
const GEARMAND_COLUMNS = ['unique_key', 'function_name', 'priority', 'data', 'when_to_run'];

/** The tables of `db` shaped like gearmand's libsqlite3 queue (default name `gearman_queue`). */
export function gearmandQueueTables(db: Database.Database): string[] {
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`)
    .pluck()
    .all() as string[];
  return tables.filter((table) => {
    const columns = new Set(
      (db.pragma(`table_info("${table.replace(/"/g, '""')}")`) as { name: string }[]).map(
        (c) => c.name,
      ),
    );
    return GEARMAND_COLUMNS.every((c) => columns.has(c));
  });
}

/** One job of a gearmand queue file, as geartrain takes it. */
export interface GearmandJob {
  readonly functionName: string;
  readonly unique: string;
  readonly priority: Priority;
  readonly payload: Buffer;
  /** ms since the epoch; 0 = at once (gearmand keeps seconds). */
  readonly runAt: number;
}

const PRIORITIES: Record<number, Priority> = { 0: 'high', 1: 'normal', 2: 'low' };

/**
 * Reads the jobs of a gearmand libsqlite3 queue table. gearmand gives every background job a
 * unique key (a generated UUID when the client sent none), and keeps no order but the
 * table's insertion order, which is what this returns.
 */
export function* readGearmandQueue(db: Database.Database, table: string): Generator<GearmandJob> {
  const rows = db
    .prepare(
      `SELECT unique_key, function_name, priority, data, when_to_run FROM "${table.replace(/"/g, '""')}" ORDER BY rowid`,
    )
    .raw()
    .iterate() as IterableIterator<[unknown, unknown, unknown, unknown, unknown]>;
  for (const [unique, fn, priority, data, when] of rows) {
    yield {
      functionName: text(fn),
      unique: text(unique),
      priority: PRIORITIES[Number(priority)] ?? 'normal',
      payload: Buffer.isBuffer(data) ? data : Buffer.from(text(data)),
      runAt: Number(when) > 0 ? Number(when) * 1000 : 0,
    };
  }
}

function text(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
