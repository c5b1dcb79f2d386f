import type { Backoff } from './retry.js';
import type { KeepLimit, QueueLimits, RateLimit, Retention } from './types.js';

// One settings record per function (issue 30): how often its jobs are tried, what is kept of
// them, when they may start and how many may wait. Read with `settings`, changed with
// `configure`, kept by the store (or the shared queue) as a `SettingsRecord`.

/**
 * Changes to a function's settings (`configure`). A setting given replaces the one in force,
 * `null` puts its default back, and one left out stays as it is.
 */
export interface SettingsChanges {
  /** Attempts in all, the first included (a whole number ≥ 1). Default 1. */
  readonly attempts?: number | null;
  /** The wait before each retry; a number is a fixed delay in ms. Default: none. */
  readonly backoff?: Backoff | number | null;
  /**
   * What is kept of its ended background jobs; a state left out keeps the server's `keep`.
   * Replaced whole (not merged by state). Default: the server's `keep`.
   */
  readonly keep?: Retention | null;
  /** At most `max` of its jobs start in any `duration` ms, across all workers. Default: none. */
  readonly rate?: RateLimit | null;
  /** Most of its jobs running at once, across all workers. Default: none. */
  readonly concurrency?: number | null;
  /**
   * Most of its jobs live at once per priority (0: no limit; a number for all three);
   * a submission past it is refused (QUEUE_FULL). Default: the server's `maxQueue`.
   */
  readonly maxQueue?: number | Partial<QueueLimits> | null;
  /** Paused: its jobs are accepted and wait, none starts. Default false. */
  readonly paused?: boolean | null;
}

/**
 * The settings given for one function, as a store and a shared queue keep them: only what was
 * set, so that a default changed later (the server's `keep`, `maxQueue`) applies to what was
 * left unset. A record with no setting is no record (the store removes it).
 */
export interface SettingsRecord {
  readonly functionName: string;
  readonly attempts?: number;
  readonly backoff?: Backoff;
  readonly keep?: Retention;
  readonly rate?: RateLimit;
  readonly concurrency?: number;
  readonly maxQueue?: QueueLimits;
  /** Present (true) while paused. */
  readonly paused?: boolean;
}

/** A function's settings (`settings`): each one in force, its default when it was not set. */
export interface FunctionSettings {
  readonly functionName: string;
  /**
   * Attempts in all, the first included. Default 1; while neither `attempts` nor `backoff` is
   * set, a job whose worker was lost goes back to its queue up to the server's `maxRetries`,
   * as with gearmand.
   */
  readonly attempts: number;
  /** The wait before each retry, or null (none: retried at once). */
  readonly backoff: Backoff | null;
  /** What is kept of its ended background jobs, per state. */
  readonly keep: { readonly completed: KeepLimit; readonly failed: KeepLimit };
  readonly rate: RateLimit | null;
  readonly concurrency: number | null;
  /** Most live jobs per priority (0: no limit). */
  readonly maxQueue: QueueLimits;
  readonly paused: boolean;
  /** What was set, the rest being defaults: the record as it is kept. */
  readonly configured: SettingsRecord;
}
