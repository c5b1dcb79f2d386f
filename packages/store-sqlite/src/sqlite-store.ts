import type Database from 'better-sqlite3';
import type {
  JobRecord,
  JobStore,
  LoggerLike,
  OutcomeRecord,
  ScheduleRecord,
  SettingsRecord,
} from '@geartrain/core';
import { SettingRows, type ScheduleWrite } from './setting-rows.js';
import { OutcomeRows, type OutcomeWrite } from './outcome-rows.js';
import { openDatabase, openError } from './open.js';
import type { Durability, SqliteJobStoreOptions } from './options.js';
import { prepareChunkRead, readRecords } from './read-records.js';
import { Rows } from './rows.js';
import { checkTableName, migrate } from './schema.js';

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
 * `update` and `remove` acknowledge nothing: they wait up to `lazyWrites` ms to join a batch,
 * and an update of a job that also ends in the batch is dropped (the row goes anyway), which
 * is the common case when jobs are short.
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
  /** Kept outcomes written and forgotten, in order (lazy, like removals). */
  private outcomeWrites: OutcomeWrite[] = [];
  /** Settings records and schedules written: acknowledged, like new jobs. */
  private settingsWrites: SettingsRecord[] = [];
  private scheduleWrites: ScheduleWrite[] = [];
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
  private closed = false;

  private readonly rows: Rows;
  private readonly selectChunk: Database.Statement;
  private readonly commit: (
    adds: JobRecord[],
    updates: JobRecord[],
    removes: number[],
    outcomes: OutcomeWrite[],
    settings?: SettingsRecord[],
    schedules?: ScheduleWrite[],
  ) => void;
  private readonly outcomeRows: OutcomeRows;
  private readonly settingRows: SettingRows;

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
      this.rows = new Rows(this.db, table);
    } catch (error) {
      this.db.close();
      throw openError(error, path);
    }
    const db = this.db;
    this.canVacuum = db.pragma('auto_vacuum', { simple: true }) === 2;
    this.selectChunk = prepareChunkRead(db, table);
    const rows = this.rows;
    const outcomeRows = (this.outcomeRows = new OutcomeRows(db));
    const settingRows = (this.settingRows = new SettingRows(db));
    this.commit = db.transaction(
      (
        adds: JobRecord[],
        updates: JobRecord[],
        removes: number[],
        outcomes: OutcomeWrite[],
        settings: SettingsRecord[] = [],
        schedules: ScheduleWrite[] = [],
      ) => {
        rows.write(adds, updates, removes);
        outcomeRows.write(outcomes);
        if (settings.length > 0 || schedules.length > 0) settingRows.write(settings, schedules);
      },
    );
  }

  // ---------------------------------------------------------------------------------
  // JobStore

  add(record: JobRecord): Promise<void> {
    this.checkOpen();
    this.adds.push(record);
    return this.acknowledged();
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

  keepOutcome(outcome: OutcomeRecord): void {
    this.checkOpen();
    this.outcomeWrites.push({ keep: outcome });
    this.scheduleLazyFlush();
  }

  forgetOutcome(seq: number): void {
    this.checkOpen();
    this.outcomeWrites.push({ forget: seq });
    this.scheduleLazyFlush();
  }

  /** Joins the next commit and is acknowledged with it (as a new job is). */
  private acknowledged(): Promise<void> {
    const batch = (this.batch ??= newBatch());
    this.scheduleFlush();
    return batch.promise;
  }

  saveSettings(record: SettingsRecord): Promise<void> {
    this.checkOpen();
    this.settingsWrites.push(record);
    return this.acknowledged();
  }

  listSettings(): SettingsRecord[] {
    this.flush();
    try {
      return [...this.settingRows.settings()];
    } catch (error) {
      throw openError(error, this.path);
    }
  }

  /** A tick's write joins the commit of the tick's job, submitted in the same turn. */
  saveSchedule(record: ScheduleRecord): Promise<void> {
    this.checkOpen();
    this.scheduleWrites.push({ save: record });
    return this.acknowledged();
  }

  removeSchedule(id: string): Promise<void> {
    this.checkOpen();
    this.scheduleWrites.push({ remove: id });
    return this.acknowledged();
  }

  listSchedules(): ScheduleRecord[] {
    this.flush();
    try {
      return [...this.settingRows.schedules()];
    } catch (error) {
      throw openError(error, this.path);
    }
  }

  /** The kept outcomes, oldest end first. */
  listOutcomes(): OutcomeRecord[] {
    this.flush();
    try {
      return [...this.outcomeRows.list()];
    } catch (error) {
      throw openError(error, this.path);
    }
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
    return this.rows.highest;
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
    const outcomes = this.outcomeWrites;
    const settings = this.settingsWrites;
    const schedules = this.scheduleWrites;
    const writes = this.waiting();
    if (writes === 0) return;
    const batch = this.batch;
    this.adds = [];
    this.updates = [];
    this.removes = [];
    this.outcomeWrites = [];
    if (settings.length > 0) this.settingsWrites = [];
    if (schedules.length > 0) this.scheduleWrites = [];
    this.batch = null;
    const started = performance.now();
    try {
      this.commit(adds, updates, removes, outcomes, settings, schedules);
    } catch (error) {
      // Nothing of the batch was written. Its new jobs are refused (their submitters are
      // told); the writes of started and finished jobs are kept and tried again, without
      // the new jobs, which may be what did not fit.
      batch?.reject(error);
      this.keepForRetry(updates, removes, outcomes, error);
      return;
    }
    this.onCommit?.((performance.now() - started) / 1000, writes);
    batch?.resolve();
    if (removes.length > 0) this.scheduleVacuum();
  }

  /** Writes waiting for a commit, of every kind (`maxBatch` bounds them all). */
  private waiting(): number {
    return (
      this.adds.length +
      this.updates.length +
      this.removes.length +
      this.outcomeWrites.length +
      this.settingsWrites.length +
      this.scheduleWrites.length
    );
  }

  private scheduleFlush(): void {
    if (this.waiting() >= this.maxBatch) {
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
    if (this.waiting() >= this.maxBatch) {
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

  private keepForRetry(
    updates: JobRecord[],
    removes: number[],
    outcomes: OutcomeWrite[],
    error: unknown,
  ): void {
    const writes = updates.length + removes.length + outcomes.length;
    if (writes === 0) return;
    try {
      this.commit([], updates, removes, outcomes);
      return;
    } catch {
      // Still failing: kept for the next batch or the retry timer.
    }
    this.logger?.error(
      { err: error, writes },
      'job store: writes of started and finished jobs failed; they are tried again',
    );
    this.updates = updates.concat(this.updates);
    this.removes = removes.concat(this.removes);
    this.outcomeWrites = outcomes.concat(this.outcomeWrites);
    if (this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
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
