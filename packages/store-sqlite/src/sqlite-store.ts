import Database from 'better-sqlite3';
import type { JobRecord, JobStore, LoggerLike, Priority } from '@geartrain/core';
import { sqliteCode, StoreOpenError } from './errors.js';
import { prepareChunkRead, readRecords } from './read-records.js';
import { checkTableName, migrate, type Migration } from './schema.js';

/**
 * What a committed job survives, by name:
 *
 * - `process-crash` (default): the process being killed (kill -9, an out-of-memory kill, a
 *   crash). A commit is written to the operating system before the submitter is told; the
 *   file is never fsynced on the hot path (WAL, `synchronous=NORMAL`). A power cut or an
 *   operating-system crash may lose the last commits (never corrupt the file).
 * - `power-loss`: also a power cut and an operating-system crash. Every commit is fsynced
 *   before the submitter is told (`synchronous=FULL`): one fsync per batch, not per job.
 */
export type Durability = 'process-crash' | 'power-loss';

export interface SqliteJobStoreOptions {
  /** See {@link Durability}. Default `process-crash`. */
  durability?: Durability;
  /** The jobs table (gearmand's `--libsqlite3-table`). Default `jobs`. */
  table?: string;
  /** Most writes in one transaction; a longer turn commits in several. Default 10,000. */
  maxBatch?: number;
  /**
   * How long (ms) the writes of started and finished jobs may wait to share a commit.
   * Default 10. A job that ended less than this before a crash runs again after it; one
   * started less than this before has that attempt uncounted. 0 commits them after the turn.
   */
  lazyWrites?: number;
  /** Largest the file may grow, in bytes (`max_page_count`); past it, submissions are refused. */
  maxBytes?: number;
  /** The write-ahead log is cut back to this many bytes after each checkpoint. Default 64 MiB. */
  walLimit?: number;
  /** Failed writes of finished jobs (which are retried) are logged here. */
  logger?: LoggerLike;
  /** Called after each commit with its duration in seconds and its number of writes. */
  onCommit?: (seconds: number, writes: number) => void;
  /**
   * Called after each step of giving free pages back to the file system (after jobs ended),
   * with the pages freed, those left free, and whether the steps are over for now.
   */
  onVacuum?: (freed: number, left: number, over: boolean) => void;
  /** @internal The schema steps (tests of migrations). */
  migrations?: readonly Migration[];
}

const PRIORITY_CODES: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/**
 * Rows per multi-row INSERT and seqs per DELETE … IN: fewer calls into SQLite per job. A
 * plain job (no unique id, normal priority, at once, no reducer, never started) binds only
 * its seq, handle, function and payload; the rest are the table's defaults.
 */
const INSERT_ROWS = 16;
const PLAIN_ROWS = 64;
const DELETE_ROWS = 64;
const COLUMNS = 9;
const PLAIN_COLUMNS = 4;
/** Failed writes of finished or started jobs are tried again this often (ms). */
const RETRY_MS = 1000;
/**
 * The file is checked for free pages to give back a second after jobs ended (a busy store
 * reuses its free pages at once: giving them back on every commit would only make it grow
 * again), and then given back in steps of VACUUM_PAGES every VACUUM_STEP_MS.
 */
const VACUUM_MS = 1000;
const VACUUM_STEP_MS = 50;
const VACUUM_PAGES = 4096;

interface Batch {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A durable {@link JobStore} in one SQLite file (better-sqlite3).
 *
 * Group commit: every write of one event-loop turn goes into one transaction, committed
 * after the turn (or at once when `maxBatch` writes are waiting). `add` returns the batch's
 * promise, so a submission is acknowledged only once the transaction holding it committed.
 * `update` and `remove` join the same batch; an update of a job that also ends in the batch
 * is dropped (the row goes anyway), which is the common case when jobs are short.
 *
 * The file is held with an exclusive lock while open: a second server refuses to start on
 * it. Its free pages are given back after a burst drains (incremental vacuum), and the
 * write-ahead log is cut back after checkpoints.
 */
export class SqliteJobStore implements JobStore {
  readonly path: string;
  readonly durability: Durability;

  private readonly db: Database.Database;
  private readonly maxBatch: number;
  private readonly logger: LoggerLike | undefined;
  private readonly onCommit: ((seconds: number, writes: number) => void) | undefined;
  private readonly onVacuum: ((freed: number, left: number, over: boolean) => void) | undefined;

  private adds: JobRecord[] = [];
  private updates: JobRecord[] = [];
  private removes: number[] = [];
  private batch: Batch | null = null;
  private flushScheduled = false;
  private lazyTimer: NodeJS.Timeout | null = null;
  private readonly lazyWrites: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private vacuumTimer: NodeJS.Timeout | null = null;
  /** Whether the file gives pages back (`auto_vacuum = INCREMENTAL`, set when it was made). */
  private readonly canVacuum: boolean;
  /** Pages given back since the last checkpoint that truncated the log. */
  private vacuumed = 0;
  private highest: number;
  private closed = false;

  private readonly insertOne: Database.Statement;
  private readonly insertMany: Database.Statement;
  private readonly insertPlainMany: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly deleteMany: Database.Statement;
  private readonly deleteRange: Database.Statement;
  private readonly updateOne: Database.Statement;
  private readonly raiseHighest: Database.Statement;
  private readonly selectChunk: Database.Statement;
  private readonly insertArgs = new Array<unknown>(INSERT_ROWS * COLUMNS);
  private readonly plainArgs = new Array<unknown>(PLAIN_ROWS * PLAIN_COLUMNS);
  private readonly deleteArgs = new Array<number>(DELETE_ROWS);
  private readonly commit: (adds: JobRecord[], updates: JobRecord[], removes: number[]) => void;

  /** Opens (or creates) the store at `path`; throws {@link StoreOpenError} with the reason. */
  static open(path: string, options: SqliteJobStoreOptions = {}): SqliteJobStore {
    return new SqliteJobStore(path, options);
  }

  private constructor(path: string, options: SqliteJobStoreOptions) {
    this.path = path;
    this.durability = options.durability ?? 'process-crash';
    if (this.durability !== 'process-crash' && this.durability !== 'power-loss') {
      throw new TypeError(`durability must be 'process-crash' or 'power-loss'`);
    }
    const table = options.table ?? 'jobs';
    checkTableName(table);
    this.maxBatch = options.maxBatch ?? 10_000;
    this.lazyWrites = options.lazyWrites ?? 10;
    this.logger = options.logger;
    this.onCommit = options.onCommit;
    this.onVacuum = options.onVacuum;
    this.db = openDatabase(path, this.durability, options);
    try {
      migrate(this.db, path, table, options.migrations);
      this.highest = Number(
        this.db.prepare(`SELECT value FROM geartrain_meta WHERE key = 'highest_seq'`).pluck().get(),
      );
    } catch (error) {
      this.db.close();
      throw openError(error, path);
    }
    const db = this.db;
    this.canVacuum = db.pragma('auto_vacuum', { simple: true }) === 2;
    const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    this.insertOne = db.prepare(`INSERT INTO "${table}" VALUES ${row}`);
    this.insertMany = db.prepare(
      `INSERT INTO "${table}" VALUES ${Array<string>(INSERT_ROWS).fill(row).join(', ')}`,
    );
    this.insertPlainMany = db.prepare(
      `INSERT INTO "${table}" (seq, handle, function_name, payload) VALUES ${Array<string>(PLAIN_ROWS).fill('(?, ?, ?, ?)').join(', ')}`,
    );
    this.deleteOne = db.prepare(`DELETE FROM "${table}" WHERE seq = ?`);
    this.deleteRange = db.prepare(`DELETE FROM "${table}" WHERE seq BETWEEN ? AND ?`);
    this.deleteMany = db.prepare(
      `DELETE FROM "${table}" WHERE seq IN (${Array<string>(DELETE_ROWS).fill('?').join(', ')})`,
    );
    this.updateOne = db.prepare(`UPDATE "${table}" SET attempts = ?, run_at = ? WHERE seq = ?`);
    this.raiseHighest = db.prepare(
      `UPDATE geartrain_meta SET value = ? WHERE key = 'highest_seq' AND value < ?`,
    );
    this.selectChunk = prepareChunkRead(db, table);
    this.commit = db.transaction((adds: JobRecord[], updates: JobRecord[], removes: number[]) =>
      this.write(adds, updates, removes),
    );
  }

  // ---------------------------------------------------------------------------------
  // JobStore

  add(record: JobRecord): Promise<void> {
    this.checkOpen();
    this.adds.push(record);
    const batch = (this.batch ??= newBatch());
    this.scheduleFlush();
    return batch.promise;
  }

  update(record: JobRecord): void {
    this.checkOpen();
    this.updates.push(record);
    this.scheduleLazyFlush();
  }

  remove(record: JobRecord): void {
    this.checkOpen();
    this.removes.push(record.seq);
    this.scheduleLazyFlush();
  }

  /** Every record, in seq order, read a chunk at a time (a million need not be in memory). */
  *list(): Generator<JobRecord> {
    this.flush();
    const records = readRecords(this.selectChunk);
    for (;;) {
      let next: IteratorResult<JobRecord>;
      try {
        next = records.next();
      } catch (error) {
        throw openError(error, this.path);
      }
      if (next.done === true) return;
      yield next.value;
    }
  }

  highestSeq(): number {
    return this.highest;
  }

  /** Commits what is waiting, then closes the file (its lock is released). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.vacuumTimer !== null) clearTimeout(this.vacuumTimer);
    try {
      if (this.canVacuum) this.vacuumStep(Infinity);
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (error) {
      this.logger?.error({ err: error }, 'job store: final checkpoint failed');
    }
    this.db.close();
  }

  // ---------------------------------------------------------------------------------
  // Group commit

  /** Commits every waiting write now (they are committed after the turn anyway). */
  flush(): void {
    this.flushScheduled = false;
    if (this.lazyTimer !== null) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = null;
    }
    if (this.closed) return;
    const adds = this.adds;
    const updates = this.updates;
    const removes = this.removes;
    if (adds.length + updates.length + removes.length === 0) return;
    const batch = this.batch;
    this.adds = [];
    this.updates = [];
    this.removes = [];
    this.batch = null;
    const started = performance.now();
    try {
      this.commit(adds, updates, removes);
    } catch (error) {
      // Nothing of the batch was written. Its new jobs are refused (their submitters are
      // told); the writes of started and finished jobs are kept and tried again, without
      // the new jobs, which may be what did not fit.
      batch?.reject(error);
      this.keepForRetry(updates, removes, error);
      return;
    }
    this.onCommit?.(
      (performance.now() - started) / 1000,
      adds.length + updates.length + removes.length,
    );
    batch?.resolve();
    if (removes.length > 0) this.scheduleVacuum();
  }

  private scheduleFlush(): void {
    if (this.adds.length + this.updates.length + this.removes.length >= this.maxBatch) {
      this.flush();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the I/O callbacks of this turn: all the submissions read in it share a commit.
    setImmediate(() => {
      if (this.flushScheduled) this.flush();
    });
  }

  /**
   * Updates and removals acknowledge nothing to anybody, so they wait up to `lazyWrites` ms
   * for company: the next batch of new jobs, or each other. Short jobs then cost no update
   * (the job ended before it was written), and workers finishing jobs one by one over TCP
   * share a commit instead of paying one each (decision 20 says what a crash costs).
   */
  private scheduleLazyFlush(): void {
    if (this.adds.length + this.updates.length + this.removes.length >= this.maxBatch) {
      this.flush();
      return;
    }
    if (this.flushScheduled || this.lazyTimer !== null) return;
    if (this.lazyWrites === 0) {
      this.scheduleFlush();
      return;
    }
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = null;
      this.flush();
    }, this.lazyWrites);
    this.lazyTimer.unref();
  }

  private keepForRetry(updates: JobRecord[], removes: number[], error: unknown): void {
    if (updates.length + removes.length === 0) return;
    try {
      this.commit([], updates, removes);
      return;
    } catch {
      // Still failing: kept for the next batch or the retry timer.
    }
    this.logger?.error(
      { err: error, writes: updates.length + removes.length },
      'job store: writes of started and finished jobs failed; they are tried again',
    );
    this.updates = updates.concat(this.updates);
    this.removes = removes.concat(this.removes);
    if (this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /**
   * One transaction's writes. Finished rows go first, so that a full file has their room for
   * the new ones; a record added and removed in the same batch is never written, and an
   * update of a job that ended in the batch is dropped (its row goes).
   */
  private write(adds: JobRecord[], updates: JobRecord[], removes: number[]): void {
    const ended = removes.length > 0 && adds.length + updates.length > 0 ? new Set(removes) : null;
    if (removes.length > 0) this.delete(removes);
    if (adds.length > 0) {
      this.insert(ended === null ? adds : adds.filter((r) => !ended.has(r.seq)));
      // Every seq handed out counts, written or not: its handle is never given again.
      let top = this.highest;
      for (const r of adds) if (r.seq > top) top = r.seq;
      this.raiseHighest.run(top, top);
      this.highest = top;
    }
    for (const r of updates) {
      if (ended === null || !ended.has(r.seq)) this.updateOne.run(r.attempts, r.runAt, r.seq);
    }
  }

  private insert(adds: JobRecord[]): void {
    const plain: JobRecord[] = [];
    const full = this.insertArgs;
    let n = 0;
    for (const r of adds) {
      if (isPlain(r)) {
        plain.push(r);
        continue;
      }
      rowArgs(r, full, n * COLUMNS);
      if (++n === INSERT_ROWS) {
        this.insertMany.run(full);
        n = 0;
      }
    }
    const one = new Array<unknown>(COLUMNS);
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < COLUMNS; c++) one[c] = full[k * COLUMNS + c];
      this.insertOne.run(one);
    }
    const args = this.plainArgs;
    let i = 0;
    for (; i + PLAIN_ROWS <= plain.length; i += PLAIN_ROWS) {
      for (let k = 0; k < PLAIN_ROWS; k++) {
        const r = plain[i + k]!;
        const at = k * PLAIN_COLUMNS;
        args[at] = r.seq;
        args[at + 1] = r.id;
        args[at + 2] = r.functionName;
        args[at + 3] = r.payload;
      }
      this.insertPlainMany.run(args);
    }
    for (; i < plain.length; i++) {
      rowArgs(plain[i]!, one, 0);
      this.insertOne.run(one);
    }
  }

  /** Deletes by seq: runs of consecutive seqs (jobs that end in order) as one range each. */
  private delete(removes: number[]): void {
    const seqs = Float64Array.from(removes).sort();
    const singles = this.deleteArgs;
    let n = 0;
    for (let i = 0; i < seqs.length;) {
      let j = i;
      while (j + 1 < seqs.length && seqs[j + 1]! - seqs[j]! <= 1) j++;
      if (j - i >= 2) {
        this.deleteRange.run(seqs[i], seqs[j]);
      } else {
        for (let k = i; k <= j; k++) {
          singles[n++] = seqs[k]!;
          if (n === DELETE_ROWS) {
            this.deleteMany.run(singles);
            n = 0;
          }
        }
      }
      i = j + 1;
    }
    for (let k = 0; k < n; k++) this.deleteOne.run(singles[k]);
  }

  // ---------------------------------------------------------------------------------
  // Giving space back

  private scheduleVacuum(delay = VACUUM_MS): void {
    if (this.vacuumTimer !== null || !this.canVacuum) return;
    this.vacuumTimer = setTimeout(() => {
      this.vacuumTimer = null;
      if (this.closed) return;
      try {
        const { freed, left, more } = this.vacuumStep(VACUUM_PAGES);
        this.vacuumed += freed;
        if (more) this.scheduleVacuum(VACUUM_STEP_MS);
        else if (this.vacuumed > 0) {
          // The file shrinks once the log is checkpointed: at the end of the steps, so that
          // a drained store does (and the log is cut to nothing).
          this.vacuumed = 0;
          this.db.pragma('wal_checkpoint(TRUNCATE)');
        }
        this.onVacuum?.(freed, left, !more);
      } catch (error) {
        this.logger?.warn?.({ err: error }, 'job store: giving free pages back failed');
      }
    }, delay);
    this.vacuumTimer.unref();
  }

  /**
   * Gives up to `pages` free pages back to the file system when more than a quarter of the
   * file is free (a drained burst). Small steps keep each pause short (a few ms).
   */
  private vacuumStep(pages: number): { freed: number; left: number; more: boolean } {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    if (free < 16 || free * 4 < total) return { freed: 0, left: free, more: false };
    const step = Math.min(free, pages);
    this.db.pragma(`incremental_vacuum(${step})`);
    return { freed: step, left: free - step, more: free > step };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`the job store ${this.path} is closed`);
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody awaits (every submitter gone) must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function isPlain(r: JobRecord): boolean {
  return (
    r.unique === '' &&
    r.priority === 'normal' &&
    r.runAt === 0 &&
    r.reducer === '' &&
    r.attempts === 0
  );
}

function rowArgs(r: JobRecord, args: unknown[], at: number): void {
  args[at] = r.seq;
  args[at + 1] = r.id;
  args[at + 2] = r.functionName;
  args[at + 3] = r.unique;
  args[at + 4] = PRIORITY_CODES[r.priority];
  args[at + 5] = r.payload;
  args[at + 6] = r.runAt;
  args[at + 7] = r.reducer;
  args[at + 8] = r.attempts;
}

function openDatabase(
  path: string,
  durability: Durability,
  options: SqliteJobStoreOptions,
): Database.Database {
  let db: Database.Database;
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
function openError(error: unknown, path: string): StoreOpenError {
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
