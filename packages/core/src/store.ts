import type { Retries } from './retry.js';
import type { SettingsRecord } from './settings-types.js';
import type { FunctionControl, JobOutcome, Priority, ScheduleInfo } from './types.js';

/**
 * What a {@link JobStore} keeps of one background job. Every field but `attempts` and
 * `runAt` keeps the value it had when the record was added; those two change when the
 * server calls `update`.
 */
export interface JobRecord {
  /**
   * The record's key: a positive whole number, unique among the store's records and larger
   * for a later job (acceptance order). The job's handle ends with it (`id` is `…:<seq>`).
   */
  readonly seq: number;
  /** The handle the job was given when accepted; it keeps it across restarts. */
  readonly id: string;
  readonly functionName: string;
  /** The unique id; empty when the job had none (it never collides with other records). */
  readonly unique: string;
  readonly priority: Priority;
  readonly payload: Buffer;
  /** When a delayed job becomes runnable, in ms on the server's clock; 0 = at once. */
  readonly runAt: number;
  /** The reducer of a map/reduce submission; empty for ordinary jobs. */
  readonly reducer: string;
  /**
   * How many times the job was handed to a worker. One that is not 0 at a restart was
   * running (or waiting again after a lost worker) when the previous run ended: it goes
   * back to the front of its queue with those attempts counted against `maxRetries`.
   */
  readonly attempts: number;
  /** The job's own retry policy (an in-process submission's), or null for its function's. */
  readonly retry: Retries | null;
}

/**
 * Where a job server persists accepted background jobs so that none is lost across a
 * restart. Methods may be synchronous or return a Promise.
 *
 * - `add` is called when a background job is accepted, before the submitter is told; a
 *   failure (a throw or a rejected Promise) means the job is not accepted.
 * - `update` is called when a job's `attempts` or `runAt` changed (a worker took it); the
 *   store keeps the new values.
 * - `remove` is called when the job ends (completed, failed, cancelled).
 * - `update` and `remove` identify the record by `seq`: they may receive another object
 *   than the one added (after a restart, the replayed job). A failure of either is logged;
 *   the store must not lose the operation silently (a durable store retries it).
 * - `list` returns every record still present in `seq` order, for replay at start-up.
 * - `highestSeq` is the largest `seq` ever added, removed records included, so that a
 *   restarted server never gives a finished job's handle to another job (0 when none).
 *
 * `describeJobStoreContract` in `@geartrain/testing` is the behaviour every store must have.
 */
export interface JobStore {
  add(record: JobRecord): void | Promise<void>;
  update(record: JobRecord): void | Promise<void>;
  remove(record: JobRecord): void | Promise<void>;
  list(): Iterable<JobRecord> | Promise<Iterable<JobRecord>>;
  highestSeq(): number | Promise<number>;
  /**
   * Kept outcomes (decision 21), for stores that keep them across a restart: `keepOutcome`
   * when a job's end is kept (called with the job's `remove`, which it may share a commit
   * with), `forgetOutcome` when it is no longer kept (trimmed, discarded, run again), and
   * `listOutcomes` at start, oldest end first. A store without them loses outcomes at a
   * restart; jobs are not affected.
   */
  keepOutcome?(outcome: OutcomeRecord): void | Promise<void>;
  forgetOutcome?(seq: number): void | Promise<void>;
  listOutcomes?(): Iterable<OutcomeRecord> | Promise<Iterable<OutcomeRecord>>;
  /**
   * Each function's settings record (`configure`: retries, retention, pause, limits, queue
   * limits), for stores that keep them: `saveSettings` when one changes, with the whole
   * record (one with no setting but its `functionName` removes the function's), and
   * `listSettings` at start, before the jobs. Like a schedule's write, it is acknowledged:
   * the caller is answered once it is committed. A store without them forgets the settings
   * at a restart.
   */
  saveSettings?(record: SettingsRecord): void | Promise<void>;
  listSettings?(): Iterable<SettingsRecord> | Promise<Iterable<SettingsRecord>>;
  /**
   * The version before settings records: pauses and limits only (decision 23). A store
   * without `listSettings` is read by `listControls` at start, and one without
   * `saveSettings` is given the pause and limits of each record changed by `saveControl` (a
   * record that is not paused and has no limit removes the function's), so that a store
   * written for that version keeps what it kept.
   * @deprecated implement `saveSettings` and `listSettings`
   */
  saveControl?(record: FunctionControl): void | Promise<void>;
  /** @deprecated implement `listSettings` (see `saveControl`) */
  listControls?(): Iterable<FunctionControl> | Promise<Iterable<FunctionControl>>;
  /**
   * Schedules (decision 23), for stores that keep them: `saveSchedule` when one is defined
   * and after each tick with its `lastTick`, `removeSchedule` when it is removed,
   * `listSchedules` at start. A tick's `saveSchedule` comes in the same synchronous turn as
   * the `add` of the tick's job: a store that commits in groups must commit the two
   * together, so that after a crash either both are there or neither (a tick is never
   * submitted twice, nor skipped). A store without them forgets schedules at a restart.
   */
  saveSchedule?(record: ScheduleRecord): void | Promise<void>;
  removeSchedule?(id: string): void | Promise<void>;
  listSchedules?(): Iterable<ScheduleRecord> | Promise<Iterable<ScheduleRecord>>;
  close?(): void | Promise<void>;
}

/** A schedule as a store keeps it: its definition and the last tick submitted. */
export type ScheduleRecord = Omit<ScheduleInfo, 'nextTick'>;

/**
 * A kept outcome as a store keeps it: the public `JobOutcome` with its key and the job's own
 * retry policy, and one `data` for the result (completed, capped) or the payload (failed).
 */
export interface OutcomeRecord extends Omit<JobOutcome, 'result' | 'payload'> {
  /** The job's seq (the tail of its handle): the key. */
  readonly seq: number;
  readonly data: Buffer;
  readonly retry: Retries | null;
}

/**
 * A store in this process's memory: a server created again with the same store replays what
 * the previous one left (restarts in tests); nothing survives the process. It keeps
 * references to the records it is given (the server's live jobs), not copies, so an update
 * only has to put the newest object in place. (A server without any store keeps its jobs in
 * memory too; this one adds only the replay.)
 */
export class MemoryJobStore implements JobStore {
  /** By seq; insertion order is seq order, since seqs only grow. */
  private readonly records = new Map<number, JobRecord>();
  private highest = 0;

  add(record: JobRecord): void {
    this.records.set(record.seq, record);
    if (record.seq > this.highest) this.highest = record.seq;
  }

  update(record: JobRecord): void {
    if (this.records.has(record.seq)) this.records.set(record.seq, record);
  }

  remove(record: JobRecord): void {
    this.records.delete(record.seq);
  }

  list(): JobRecord[] {
    return [...this.records.values()].sort((a, b) => a.seq - b.seq);
  }

  private readonly kept = new Map<number, OutcomeRecord>();

  keepOutcome(outcome: OutcomeRecord): void {
    this.kept.delete(outcome.seq);
    this.kept.set(outcome.seq, outcome);
  }

  forgetOutcome(seq: number): void {
    this.kept.delete(seq);
  }

  listOutcomes(): OutcomeRecord[] {
    return [...this.kept.values()];
  }

  highestSeq(): number {
    return this.highest;
  }

  private readonly settings = new Map<string, SettingsRecord>();

  saveSettings(record: SettingsRecord): void {
    // A record with nothing set but its name removes the function's.
    if (Object.keys(record).length === 1) this.settings.delete(record.functionName);
    else this.settings.set(record.functionName, record);
  }

  listSettings(): SettingsRecord[] {
    return [...this.settings.values()];
  }

  private readonly scheduleRecords = new Map<string, ScheduleRecord>();

  saveSchedule(record: ScheduleRecord): void {
    this.scheduleRecords.set(record.id, record);
  }

  removeSchedule(id: string): void {
    this.scheduleRecords.delete(id);
  }

  listSchedules(): ScheduleRecord[] {
    return [...this.scheduleRecords.values()];
  }

  /** Number of records held. */
  get size(): number {
    return this.records.size;
  }
}
