import type { LoggerLike } from '@geartrain/core';
import type { Migration } from './schema.js';

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
