import type { Priority } from './types.js';

/**
 * What a {@link JobStore} keeps of one background job. Records are immutable: every field
 * keeps the value it had when the record was added.
 */
export interface JobRecord {
  /** The record's key, stable across restarts (the handle the job had when accepted). */
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
}

/**
 * Where a job server persists accepted background jobs so that none is lost across a
 * restart. Methods may be synchronous or return a Promise.
 *
 * - `add` is called when a background job is accepted, before the submitter is told; a
 *   failure (a throw or a rejected Promise) means the job is not accepted.
 * - `remove` is called when the job ends (completed, failed, cancelled); it receives the
 *   same record object that `add` received, or that `list` returned.
 * - `list` returns every record still present, oldest first, for replay at start-up.
 *
 * `describeJobStoreContract` in `@geartrain/testing` is the behaviour every store must have.
 */
export interface JobStore {
  add(record: JobRecord): void | Promise<void>;
  remove(record: JobRecord): void | Promise<void>;
  list(): Iterable<JobRecord> | Promise<Iterable<JobRecord>>;
  close?(): void | Promise<void>;
}

/**
 * A store in this process's memory: a server created again with the same store replays what
 * the previous one left (restarts in tests); nothing survives the process. It keeps
 * references to the records it is given, which are immutable, rather than copies. (A server
 * without any store keeps its jobs in memory too; this one adds only the replay.)
 */
export class MemoryJobStore implements JobStore {
  private readonly records = new Set<JobRecord>();

  add(record: JobRecord): void {
    this.records.add(record);
  }

  remove(record: JobRecord): void {
    this.records.delete(record);
  }

  list(): JobRecord[] {
    return [...this.records];
  }

  /** Number of records held. */
  get size(): number {
    return this.records.size;
  }
}
