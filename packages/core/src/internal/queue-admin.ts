import type { SettingsRecord } from '../settings-types.js';
import type { SubmitOutcome } from '../transport-types.js';
import type {
  FunctionStatus,
  JobFilter,
  JobInfo,
  JobOutcome,
  JobStatus,
  NodeInfo,
  OutcomeFilter,
  ScheduleInfo,
  ScheduleOptions,
  UniqueJobStatus,
} from '../types.js';
import type { CheckedChanges, SettingsDefaults } from './settings-record.js';

/** A value now (the local queue), or later (a shared queue asks its backend). */
export type Answer<T> = T | Promise<T>;

/**
 * What the job server asks of its queue besides the dispatcher's traffic (decision 33):
 * the views, jobs by hand, each function's settings and the schedules. The local queue
 * answers at once; a shared queue answers after a round trip. The job server's methods
 * return Promises either way, so that an application sees one API.
 */
export interface QueueAdmin {
  /** Resolves once the queue is ready (a store replayed, a backend connected). */
  open(): Promise<void>;

  status(handle: string): Answer<JobStatus>;
  statusByUnique(unique: string, functionName?: string): Answer<UniqueJobStatus>;
  functions(): Answer<FunctionStatus[]>;
  jobs(filter: JobFilter): Answer<JobInfo[]>;
  job(handle: string): Answer<JobInfo | undefined>;

  outcome(handle: string): Answer<JobOutcome | undefined>;
  outcomes(filter: OutcomeFilter): Answer<JobOutcome[]>;
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>): Answer<number>;
  /** The queue's nodes: this one alone for the local queue. */
  nodes(): Answer<NodeInfo[]>;
  cancel(handle: string): Answer<boolean>;
  /** Runs a dead letter again; undefined when none is kept under the handle. */
  retry(handle: string): Answer<SubmitOutcome | undefined>;
  discard(handle: string): Answer<boolean>;
  discardFailed(functionName: string): Answer<number>;

  // Each function's settings record (settings-record.ts): the one way they are read and
  // changed, whichever of the job server's methods reads or changes them.
  /** What a setting not set falls back on: the server's `keep` and `maxQueue`. */
  readonly defaults: SettingsDefaults;
  /** A function's record; undefined while nothing is set for it. */
  record(functionName: string): Answer<SettingsRecord | undefined>;
  /** Every function with a setting of its own, by name. */
  records(): Answer<SettingsRecord[]>;
  /**
   * Merges checked changes into a function's record: in force at once on this node, and
   * answered once the queue keeps it (a store, the backend) with the record now in force.
   */
  configure(functionName: string, changes: CheckedChanges): Answer<SettingsRecord | undefined>;

  schedule(id: string, options: ScheduleOptions): Answer<ScheduleInfo>;
  unschedule(id: string): Answer<boolean>;
  schedules(): Answer<ScheduleInfo[]>;

  createFunction(functionName: string): Answer<void>;
  dropFunction(functionName: string): Answer<void>;

  /** Closes the queue's side: a store, a backend connection. */
  close(): Promise<void>;
}
