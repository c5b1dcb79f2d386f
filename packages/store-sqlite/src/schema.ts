// The store file's schema: its versions, the steps between them, and what a file must be for
// the store to open it.
import type Database from 'better-sqlite3';
import { StoreOpenError } from './errors.js';
import { gearmandQueueTables } from './gearmand.js';
import { settingsJson } from './setting-rows.js';

/** Marks a file as a geartrain store (`PRAGMA application_id`): "gear" in ASCII. */
export const APPLICATION_ID = 0x67656172;

/** The schema this release writes. `PRAGMA user_version` holds the file's. */
export const SCHEMA_VERSION = 5;

/** One step of the schema: from `to - 1` to `to`. Steps run in order, in one transaction. */
export interface Migration {
  readonly to: number;
  up(db: Database.Database, table: string): void;
}

/**
 * Every schema step since the first release. A later release appends to this list and never
 * edits an entry, so it opens every older file.
 *
 * Version 1: the jobs table, keyed by seq (an integer key is SQLite's fastest: the row is
 * stored in the key's b-tree, no second index), with defaults for the columns most jobs
 * leave empty (so that their insert binds four values, not nine), and `geartrain_meta` for
 * the highest seq ever added and the name of the jobs table.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    up(db, table) {
      db.exec(`
        CREATE TABLE "${table}" (
          seq INTEGER PRIMARY KEY,
          handle TEXT NOT NULL,
          function_name TEXT NOT NULL,
          unique_key TEXT NOT NULL DEFAULT '',
          priority INTEGER NOT NULL DEFAULT 1,
          payload BLOB NOT NULL,
          run_at INTEGER NOT NULL DEFAULT 0,
          reducer TEXT NOT NULL DEFAULT '',
          attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE geartrain_meta (key TEXT PRIMARY KEY, value ANY) WITHOUT ROWID;
        INSERT INTO geartrain_meta VALUES ('highest_seq', 0), ('table', '${table}');
      `);
    },
  },
  {
    // Version 2: a job's own retry policy (JSON; empty for its function's policy).
    to: 2,
    up(db, table) {
      db.exec(`ALTER TABLE "${table}" ADD COLUMN retry TEXT NOT NULL DEFAULT ''`);
    },
  },
  {
    // Version 3: kept outcomes of ended jobs (failed ones, and completed ones when asked).
    to: 3,
    up(db) {
      db.exec(`
        CREATE TABLE geartrain_outcomes (
          seq INTEGER PRIMARY KEY,
          handle TEXT NOT NULL,
          function_name TEXT NOT NULL,
          unique_key TEXT NOT NULL,
          priority INTEGER NOT NULL,
          state TEXT NOT NULL,
          reason TEXT,
          data BLOB NOT NULL,
          truncated INTEGER NOT NULL,
          attempts INTEGER NOT NULL,
          errors TEXT NOT NULL,
          queued_at INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          ended_at INTEGER NOT NULL,
          retry TEXT NOT NULL
        )`);
    },
  },
  {
    // Version 4: functions' pauses and limits, and schedules with their last tick.
    to: 4,
    up(db) {
      db.exec(`
        CREATE TABLE geartrain_controls (
          function_name TEXT PRIMARY KEY,
          paused INTEGER NOT NULL,
          rate_max INTEGER,
          rate_duration REAL,
          concurrency INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE geartrain_schedules (
          id TEXT PRIMARY KEY,
          definition TEXT NOT NULL,
          payload BLOB NOT NULL,
          since INTEGER NOT NULL,
          last_tick INTEGER
        ) WITHOUT ROWID`);
    },
  },
  {
    // Version 5: each function's settings record (retries, retention, pause, limits, queue
    // limits) as JSON, in place of the pauses and limits of version 4, which it carries over.
    to: 5,
    up(db) {
      db.exec(`
        CREATE TABLE geartrain_settings (
          function_name TEXT PRIMARY KEY,
          settings TEXT NOT NULL
        ) WITHOUT ROWID`);
      const insert = db.prepare(`INSERT INTO geartrain_settings VALUES (?, ?)`);
      const controls = db.prepare(`SELECT * FROM geartrain_controls`).raw().all() as ControlRow[];
      for (const [functionName, paused, max, duration, concurrency] of controls) {
        insert.run(
          functionName,
          settingsJson(recordOfControlRow(paused, max, duration, concurrency)),
        );
      }
      db.exec(`DROP TABLE geartrain_controls`);
    },
  },
];

/** A row of version 4's `geartrain_controls`: name, paused (0, 1), rate max and ms, concurrency. */
type ControlRow = [string, number, number | null, number | null, number | null];

/** A version 4 control as the settings of a record (in the order records keep them). */
function recordOfControlRow(
  paused: number,
  max: number | null,
  duration: number | null,
  concurrency: number | null,
): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  if (max !== null && duration !== null) settings['rate'] = { max, duration };
  if (concurrency !== null) settings['concurrency'] = concurrency;
  if (paused === 1) settings['paused'] = true;
  return settings;
}

/** A table name is spliced into SQL, so only plain identifiers are allowed. */
export function checkTableName(table: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw new TypeError(`table name ${JSON.stringify(table)} is not a plain SQL identifier`);
  }
}

/**
 * Brings the file's schema to the newest of `migrations`, or refuses it: a file of a newer
 * release (its `user_version` is above ours), or an SQLite file that is not a store (no
 * application id, but tables: a gearmand queue, another program's data) is never changed.
 */
export function migrate(
  db: Database.Database,
  path: string,
  table: string,
  migrations: readonly Migration[] = MIGRATIONS,
): void {
  const latest = migrations.at(-1)!.to;
  const version = db.pragma('user_version', { simple: true }) as number;
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  if (applicationId !== APPLICATION_ID) {
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`)
      .pluck()
      .all() as string[];
    if (tables.length > 0 || version !== 0) throw foreign(db, path, tables);
  }
  if (version > latest) {
    throw new StoreOpenError(
      'NEWER_SCHEMA',
      path,
      `${path} was written by a newer release of geartrain (store schema ${version}; this ` +
        `release reads schemas up to ${latest}). Run that release, or upgrade this one.`,
    );
  }
  if (version === latest) {
    const stored = db.prepare(`SELECT value FROM geartrain_meta WHERE key = 'table'`).pluck().get();
    if (stored !== table) {
      throw new StoreOpenError(
        'FOREIGN',
        path,
        `${path} keeps its jobs in table "${String(stored)}", not "${table}": pass that name ` +
          `(--libsqlite3-table ${String(stored)}).`,
      );
    }
    return;
  }
  db.transaction(() => {
    for (const step of migrations) if (step.to > version) step.up(db, table);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${latest}`);
  }).immediate();
}

function foreign(db: Database.Database, path: string, tables: string[]): StoreOpenError {
  if (gearmandQueueTables(db).length > 0) {
    return new StoreOpenError(
      'FOREIGN',
      path,
      `${path} is a gearmand queue file (tables: ${tables.join(', ')}), not a geartrain store. ` +
        `Move its jobs over with: geartrain import-gearmand ${path} --store <new file>`,
    );
  }
  return new StoreOpenError(
    'FOREIGN',
    path,
    `${path} is an SQLite database of another program (tables: ${tables.join(', ')}), not a ` +
      `geartrain store; it was left untouched. Choose another file.`,
  );
}
