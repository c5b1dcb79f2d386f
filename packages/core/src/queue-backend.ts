import type { RetryPolicy } from './retry.js';
import type { SettingsRecord } from './settings-types.js';
import type {
  AttemptFailure,
  FailReason,
  JobEvent,
  JobUpdate,
  FunctionStatus,
  JobFilter,
  JobInfo,
  JobOutcome,
  JobStatus,
  NodeInfo,
  OutcomeFilter,
  Priority,
  ScheduleInfo,
  ScheduleOptions,
  UniqueJobStatus,
} from './types.js';

// The shared queue's backend (decision 33): where the jobs of many nodes wait, reached
// through batched, asynchronous calls. `@geartrain/postgres` implements it on PostgreSQL,
// and `@geartrain/testing` in memory, a turn away, for tests. A job server given one
// (`createJobServer({ queue })`) keeps its dispatcher, its workers and its clients in this
// process, and its jobs, background and foreground, in the backend (decision 36).

/** One incarnation of a node: a random id, new at every start (never the hostname). */
export interface NodeIdentity {
  readonly id: string;
  /** Shown to operators (the admin `nodes` command, the dashboard). */
  readonly name: string;
}

/** A submission of one turn, in the order it was made. */
export interface SharedSubmission {
  readonly functionName: string;
  readonly payload: Buffer;
  /** '' never coalesces; '-' is not accepted by a shared queue (it coalesces by payload). */
  readonly unique: string;
  readonly priority: Priority;
  /** Runnable no earlier than this many ms after the backend accepts it (0: at once). */
  readonly delay: number;
  readonly reducer: string;
  /** The job's own retry policy, or null for its function's. */
  readonly retry: RetryPolicy | null;
  /**
   * A foreground submission (decision 36): this node waits for the job's updates, new or
   * coalesced, until it ends or {@link QueueBackend.unwatch}. A job only foreground
   * submissions made is dropped before it starts once no node waits for it; a background
   * submission coalesced onto it keeps it.
   */
  readonly foreground: boolean;
}

/** A submission's answer: accepted (or coalesced onto a live job), or refused. */
export type SubmitAnswer =
  { readonly handle: string; readonly coalesced: boolean } | { readonly error: Error };

/** A job the backend handed to this node for one of its idle workers. */
export interface ClaimedJob {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly payload: Buffer;
  readonly priority: Priority;
  readonly reducer: string;
  /** This claim's attempt (1 for the first): every later report names it. */
  readonly attempt: number;
  /**
   * Other nodes wait for the job's updates: this node passes on its data, warnings and
   * status ({@link QueueBackend.relay}). Its end reaches them with the report.
   */
  readonly relayed: boolean;
}

/** What an in-process handler threw, for a dead letter's errors (a thread's too). */
export interface ThrownError {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
}

/** How an attempt of a claimed job ended, as this node's worker reported it. */
export type AttemptEnd =
  | { readonly kind: 'complete'; readonly data: Buffer }
  | { readonly kind: 'fail'; readonly thrown: ThrownError | null }
  | { readonly kind: 'exception'; readonly data: Buffer; readonly thrown: ThrownError | null }
  | { readonly kind: 'timeout' }
  /** The worker went away: the attempt counts, the job runs again (or fails past its limit). */
  | { readonly kind: 'lost' }
  /** Claimed, never started (this node closes): given back, the attempt not counted. */
  | { readonly kind: 'unclaimed' }
  /**
   * Claimed, never started, and this node's clients of it left: as `unclaimed`, and this
   * node waits for it no more (in the same write: no claim comes between); a foreground job
   * no other node waits for is dropped.
   */
  | { readonly kind: 'abandoned' };

/**
 * What became of a reported attempt: `stale` when the attempt was no longer this node's (it
 * changed nothing); else the job's state after it, as the node's events say it.
 */
export type ReportOutcome =
  | { readonly state: 'stale' }
  | { readonly state: 'completed' }
  | { readonly state: 'failed'; readonly reason: FailReason }
  | {
      readonly state: 'retrying';
      readonly attempt: number;
      readonly reason: AttemptFailure;
      readonly delay: number;
    }
  /** Back in the queue for its next attempt (a lost worker), or given back unstarted. */
  | { readonly state: 'queued'; readonly attempt: number };

/** A report for one attempt, fenced by handle, attempt and the node that claimed it. */
export interface AttemptReport {
  readonly handle: string;
  readonly attempt: number;
  readonly end: AttemptEnd;
}

export interface ProgressReport {
  readonly handle: string;
  readonly attempt: number;
  readonly numerator: number;
  readonly denominator: number;
}

/** A running job's data, warning or status, for the other nodes that wait for it. */
export interface RelayedUpdate {
  readonly handle: string;
  readonly attempt: number;
  readonly update: Extract<JobUpdate, { type: 'data' | 'warning' | 'status' }>;
}

/** What the backend tells the node of its own accord. */
export interface BackendSignals {
  /**
   * Jobs may be claimable (another node submitted, a delay came due, a function resumed):
   * for these functions, or for any when null.
   */
  waiting(functionNames: readonly string[] | null): void;
  /** A job this node claimed was taken back (cancelled, or recovered after its lease). */
  revoked(handle: string, attempt: number, reason: FailReason): void;
  /** An event of the queue that this node reports (a schedule's tick it submitted). */
  event(event: JobEvent): void;
  /**
   * A function's settings record changed on another node (undefined: back to its
   * defaults): this node puts it in force for what it holds (a pause holds its jobs at hand
   * and the foreground jobs it keeps).
   */
  settings(functionName: string, record: SettingsRecord | undefined): void;
  /**
   * Updates of a job this node waits for (foreground), in order, as another node's worker
   * sent them or as the queue ended it (cancelled, failed past its attempts): the last is
   * its end (complete, fail or exception), after which the node waits no more. Updates a
   * node sent itself may come back: a job this node runs is told here already.
   */
  updates(handle: string, updates: readonly JobUpdate[]): void;
  /** Another node began to wait for a job this node runs: pass on its updates from now. */
  relay(handle: string): void;
  /**
   * The functions this node's workers can do now, for the backend to show (the cluster's
   * nodes and what each can do). Cheap: read it as often as needed.
   */
  abilities(): readonly string[];
}

/** A shared queue's backend: one per node (its connection to the shared queue). */
export interface QueueBackend {
  /** Connects and registers this node; rejects with a typed error (`QUEUE_ERROR`). */
  open(node: NodeIdentity, signals: BackendSignals): Promise<void>;
  /** Stops this node's claims; what it still holds is given back. */
  close(): Promise<void>;

  /** One turn's background submissions: an answer each, in order. */
  submit(batch: readonly SharedSubmission[]): Promise<readonly SubmitAnswer[]>;
  /**
   * A background submission written in the application's own transaction (`transaction`:
   * what the application passed, for the backend to recognise; a wrong one is an
   * `InvalidArgumentError`). Answered once written: the job exists if the transaction
   * commits, and the backend wakes workers then. Optional: a backend without it refuses.
   */
  submitWithin?(transaction: unknown, submission: SharedSubmission): Promise<SubmitAnswer>;
  /**
   * Claims for this node at most `count` runnable jobs of each function (priority first,
   * then order of submission), marking them running under this node and a new attempt.
   */
  claim(demand: ReadonlyMap<string, number>): Promise<readonly ClaimedJob[]>;
  /**
   * Ends attempts: an outcome each, in order. A report for an attempt that is no longer this
   * node's (taken back, ended) is `stale` and changes nothing.
   */
  report(batch: readonly AttemptReport[]): Promise<readonly ReportOutcome[]>;
  /** Progress of running attempts (fenced like reports). */
  progress(batch: readonly ProgressReport[]): Promise<void>;
  /**
   * Data, warnings and status of running attempts that other nodes wait for, in order, for
   * those nodes (fenced like reports). A report of the same job is sent once this is answered.
   */
  relay(batch: readonly RelayedUpdate[]): Promise<void>;
  /**
   * This node's clients of these foreground jobs are gone: it waits for them no more. A job
   * no node waits for is dropped if it has not started (gearmand drops a foreground job
   * whose clients left); a running one finishes, its result going nowhere.
   */
  unwatch(handles: readonly string[]): Promise<void>;

  // Views of the whole queue.
  status(handle: string): Promise<JobStatus>;
  statusByUnique(unique: string, functionName?: string): Promise<UniqueJobStatus>;
  functions(): Promise<FunctionStatus[]>;
  jobs(filter: JobFilter): Promise<JobInfo[]>;
  job(handle: string): Promise<JobInfo | undefined>;
  outcome(handle: string): Promise<JobOutcome | undefined>;
  outcomes(filter: OutcomeFilter): Promise<JobOutcome[]>;
  outcomeCount(filter: Omit<OutcomeFilter, 'limit'>): Promise<number>;
  /** The live nodes of the queue (`self` unset: the caller marks its own). */
  nodes(): Promise<Omit<NodeInfo, 'self'>[]>;

  // Jobs by hand.
  cancel(handle: string): Promise<boolean>;
  /** Runs a dead letter again; undefined when none is kept under the handle. */
  retry(handle: string): Promise<SubmitAnswer | undefined>;
  discard(handle: string): Promise<boolean>;
  discardFailed(functionName: string): Promise<number>;

  // Each function's settings record, for the whole queue: the backend gates the claims by
  // its pause, rate and concurrency, retries its jobs by its attempts and back-off, keeps
  // their outcomes by its retention, and refuses submissions past its queue limits.
  /**
   * Keeps a function's record whole, in force for every node from then on; one with no
   * setting but its `functionName` removes the function's (its defaults apply again).
   */
  saveSettings(functionName: string, record: SettingsRecord): Promise<void>;
  /** Every function's record (those with a setting), by function name. */
  settings(): Promise<SettingsRecord[]>;

  // Schedules, ticked once for the whole queue.
  schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo>;
  unschedule(id: string): Promise<boolean>;
  schedules(): Promise<ScheduleInfo[]>;
}
