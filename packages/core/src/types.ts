/** Job priority; within a priority jobs run first in, first out. */
export type Priority = 'high' | 'normal' | 'low';

/** What a payload or result may be given as; strings are encoded as UTF-8. */
export type PayloadInput = Buffer | Uint8Array | string;

/**
 * Why a job failed, as seen by clients.
 *
 * - `WORK_FAIL`: the worker reported a failure (WORK_FAIL, or a `WorkFail` thrown).
 * - `EXCEPTION`: the handler raised an exception and this client did not ask for exceptions.
 * - `TIMEOUT`: the job ran longer than its function's timeout (CAN_DO_TIMEOUT).
 * - `CANCELLED`: the job was cancelled (admin `cancel job`, `server.cancel`).
 * - `RETRIES_EXHAUSTED`: its workers were lost more times than `maxRetries` allows.
 * - `SHUTDOWN`: the server closed before the job could finish.
 */
export type FailReason =
  'WORK_FAIL' | 'EXCEPTION' | 'TIMEOUT' | 'CANCELLED' | 'RETRIES_EXHAUSTED' | 'SHUTDOWN';

/** How an attempt of a job ended without a result. */
export type AttemptFailure = 'WORK_FAIL' | 'EXCEPTION' | 'TIMEOUT' | 'WORKER_LOST';

/** An update of a job delivered to each client attached to it, in order. */
export type JobUpdate =
  | { readonly type: 'data'; readonly data: Buffer }
  | { readonly type: 'warning'; readonly data: Buffer }
  | { readonly type: 'status'; readonly numerator: number; readonly denominator: number }
  | { readonly type: 'complete'; readonly data: Buffer }
  | { readonly type: 'fail'; readonly reason: FailReason }
  | { readonly type: 'exception'; readonly data: Buffer };

/** The answer to a status query by handle (GET_STATUS). Unknown and finished jobs look alike. */
export interface JobStatus {
  readonly known: boolean;
  readonly running: boolean;
  readonly numerator: number;
  readonly denominator: number;
}

/** The answer to a status query by unique id (GET_STATUS_UNIQUE). */
export interface UniqueJobStatus extends JobStatus {
  /** Foreground submissions attached to the job (each submission counts). */
  readonly clientCount: number;
  /** The job's handle, when known. */
  readonly handle: string | undefined;
}

/** Per-priority queue limits; 0 means unlimited. */
export interface QueueLimits {
  readonly high: number;
  readonly normal: number;
  readonly low: number;
}

/** Every job transition, on `server.events$`. `time` is the scheduler's clock in ms. */
export type JobEvent =
  | {
      readonly type: 'submitted';
      readonly time: number;
      readonly handle: string;
      readonly functionName: string;
      readonly unique: string;
      readonly priority: Priority;
      readonly background: boolean;
    }
  | {
      readonly type: 'coalesced';
      readonly time: number;
      readonly handle: string;
      readonly functionName: string;
      readonly unique: string;
      readonly background: boolean;
    }
  | {
      readonly type: 'delayed';
      readonly time: number;
      readonly handle: string;
      readonly runAt: number;
    }
  | {
      readonly type: 'started';
      readonly time: number;
      readonly handle: string;
      readonly functionName: string;
      /** 1 for the first assignment, 2 for the first retry, … */
      readonly attempt: number;
      readonly connection: number;
    }
  | {
      readonly type: 'progress';
      readonly time: number;
      readonly handle: string;
      readonly numerator: number;
      readonly denominator: number;
    }
  | { readonly type: 'completed'; readonly time: number; readonly handle: string }
  | {
      readonly type: 'failed';
      readonly time: number;
      readonly handle: string;
      readonly reason: FailReason | 'EXCEPTION';
    }
  | {
      readonly type: 'retried';
      readonly time: number;
      readonly handle: string;
      /** The attempt that will come next. */
      readonly attempt: number;
    }
  | {
      /** An attempt failed and the job's retry policy has more: it waits `delay` ms. */
      readonly type: 'retrying';
      readonly time: number;
      readonly handle: string;
      /** The attempt that failed (1 for the first). */
      readonly attempt: number;
      readonly reason: AttemptFailure;
      /** ms until the next attempt may start. */
      readonly delay: number;
    }
  | { readonly type: 'cancelled'; readonly time: number; readonly handle: string }
  /** A failed job was queued again by hand (`retry`), under the same handle. */
  | { readonly type: 'resubmitted'; readonly time: number; readonly handle: string }
  /** A kept outcome was discarded (`discard`). */
  | { readonly type: 'discarded'; readonly time: number; readonly handle: string }
  /** A function was paused (`pause`): its queued jobs are not handed out until `resume`. */
  | { readonly type: 'paused'; readonly time: number; readonly functionName: string }
  | { readonly type: 'resumed'; readonly time: number; readonly functionName: string }
  /**
   * A function's rate limit holds its queued jobs back until `until` (ms on the scheduler's
   * clock), when its sleeping workers are woken. Once per wait, not per job.
   */
  | {
      readonly type: 'limited';
      readonly time: number;
      readonly functionName: string;
      readonly until: number;
    }
  /** A schedule's tick submitted its job (or found it already live: `coalesced`). */
  | {
      readonly type: 'scheduled';
      readonly time: number;
      readonly scheduleId: string;
      /** The tick's time (ms on the scheduler's clock); `time` is when it was submitted. */
      readonly tick: number;
      readonly handle: string;
      readonly coalesced: boolean;
    }
  /** A schedule's tick could not be submitted (queue full, store failure); tried again later. */
  | {
      readonly type: 'schedule-failed';
      readonly time: number;
      readonly scheduleId: string;
      readonly tick: number;
      readonly error: Error;
    };

/** One row of function statistics: what `status` and `prioritystatus` show. */
export interface FunctionStatus {
  readonly functionName: string;
  /** Queued (including delayed) plus running jobs. */
  readonly total: number;
  readonly running: number;
  /** Connections registered for the function. */
  readonly workers: number;
  /** Jobs waiting to run, by priority (delayed jobs count at their priority). */
  readonly queued: { readonly high: number; readonly normal: number; readonly low: number };
  /** Of those, the jobs waiting for their time (delayed, or a retry's back-off). */
  readonly delayed: number;
  /** What happened to its jobs since the function's entry was made (for metrics). */
  readonly counts: JobCounts;
}

/** Counts of what happened to a function's jobs (`FunctionStatus.counts`). */
export interface JobCounts {
  readonly submitted: number;
  readonly coalesced: number;
  readonly completed: number;
  /** Failed for good (a failed attempt that is retried is counted in `retried`). */
  readonly failed: number;
  readonly cancelled: number;
  /** Failed attempts retried under a retry policy. */
  readonly retried: number;
  /** Jobs queued again after their worker was lost. */
  readonly requeued: number;
}

/**
 * A latency histogram the server keeps (`JobServer.timings()`), in Prometheus's shape but not
 * cumulative: `counts[i]` observations were at most `bounds[i]` seconds and over the bound
 * before; the last count is over the top bound.
 */
export interface LatencyHistogram {
  /** Upper bounds of the buckets, seconds. The same for every function. */
  readonly bounds: readonly number[];
  /** One more than `bounds`. */
  readonly counts: readonly number[];
  /** Of every observation, seconds. */
  readonly sum: number;
  readonly count: number;
}

/** A function's wait and run times since timings were turned on (`measureTimings`). */
export interface FunctionTimings {
  readonly functionName: string;
  /** From the moment a job may run (its submission, or the end of its delay or back-off) to a start. */
  readonly wait: LatencyHistogram;
  /** From the start of an attempt to its end (completed, failed, timed out, lost or revoked). */
  readonly run: LatencyHistogram;
}

/** One connection, as the `workers` admin command lists it. */
export interface ConnectionInfo {
  readonly id: number;
  readonly address: string;
  readonly clientId: string;
  readonly functions: readonly string[];
}

/** One live job, as `show jobs` lists it. */
export interface JobInfo {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly priority: Priority;
  readonly background: boolean;
  readonly state: 'queued' | 'delayed' | 'running';
  /** Assignments that ended without a result (worker lost). */
  readonly retries: number;
  /** Whether the job is in the job store. */
  readonly persisted: boolean;
  /** When a delayed job becomes runnable (scheduler ms), or 0. */
  readonly runAt: number;
  /** The attempt running, or the next one (1 for the first). */
  readonly attempt: number;
  /** A running job's progress, as its worker last reported it (`sendStatus`); else 0 and 0. */
  readonly numerator: number;
  readonly denominator: number;
  /**
   * When a running job started (scheduler ms), or 0: not running, or started while neither
   * timings (`measureTimings`) nor its kept outcome asked for the time.
   */
  readonly startedAt: number;
  /** The id of the connection that runs it (`ConnectionInfo.id`), or null. */
  readonly worker: number | null;
  /** On a shared queue, the id of the node running it (`NodeInfo.id`); else absent. */
  readonly node?: string;
  /** The payload's size in bytes. */
  readonly payloadSize: number;
  /**
   * The attempts of a background job that failed so far and were retried under its retry
   * policy, oldest first (what its kept outcome will list); empty for a foreground job.
   */
  readonly errors: readonly AttemptError[];
}

/** Which live jobs `JobServer.jobs` lists. */
export interface JobFilter {
  /** Running ones (longest running first), delayed ones (earliest first) or queued ones (next first). */
  readonly state?: 'queued' | 'delayed' | 'running';
  readonly functionName?: string;
  /** At most this many (a non-negative integer). Default: all. */
  readonly limit?: number;
}

/** Which kept outcomes `server.outcomes` lists. */
export interface OutcomeFilter {
  readonly functionName?: string;
  readonly state?: 'completed' | 'failed';
  /** Only the newest this many (a non-negative integer). Default: all. */
  readonly limit?: number;
}

/** One failed attempt of a job, as its kept outcome lists it. */
export interface AttemptError {
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly reason: AttemptFailure;
  /**
   * What the attempt failed with, as text: the message of the error a handler threw (a
   * `WorkFail`'s too), or the WORK_EXCEPTION data of a worker elsewhere read as UTF-8; capped
   * at the outcome data limit. Null when the attempt ended with nothing said (a WORK_FAIL
   * over the wire, a timeout, a lost worker).
   */
  readonly message: string | null;
  /** The WORK_EXCEPTION data as the worker sent it (capped at the outcome data limit), else null. */
  readonly data: Buffer | null;
  /**
   * The class name of the Error a handler threw (`TypeError`, `WorkFail`, your own), when
   * the handler ran in this process or in a `@geartrain/threads` pool; else null (a worker
   * over the wire sends only the text).
   */
  readonly name: string | null;
  /** That error's stack (capped at the outcome data limit), likewise; else null. */
  readonly stack: string | null;
  /** When it failed (ms on the scheduler's clock). */
  readonly time: number;
}

/** How a background job ended, kept after its end (see `Retention`). */
export interface JobOutcome {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly priority: Priority;
  readonly state: 'completed' | 'failed';
  /** Why a failed job ended: its last attempt's failure, or RETRIES_EXHAUSTED. */
  readonly reason: FailReason | null;
  /** A completed job's result, capped at the outcome data limit (`truncated` says so). */
  readonly result: Buffer | null;
  readonly truncated: boolean;
  /** A failed job's payload, kept whole so that it can run again (`retry`); empty otherwise. */
  readonly payload: Buffer;
  /** Attempts made. */
  readonly attempts: number;
  /** Every failed attempt, oldest first. */
  readonly errors: readonly AttemptError[];
  /** When it was submitted, last started and ended (ms on the scheduler's clock). */
  readonly queuedAt: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** How many outcomes of one kind a function keeps, and how long: whichever runs out first. */
export interface KeepLimit {
  /** The newest this many (0 keeps none). */
  readonly count?: number;
  /** For this many ms after the end (default: no age limit). */
  readonly age?: number;
}

/**
 * What a function keeps of its ended background jobs. Default: failed jobs (the newest
 * 1,000, for 7 days), not completed ones — what BullMQ users usually configure.
 */
export interface Retention {
  readonly completed?: KeepLimit;
  readonly failed?: KeepLimit;
}

/** At most `max` jobs of a function start in any `duration` ms, across all its workers. */
export interface RateLimit {
  readonly max: number;
  /** ms. */
  readonly duration: number;
}

/** Limits on when a function's jobs start (`setFunctionLimits`); null or absent: none. */
export interface FunctionLimits {
  readonly rate?: RateLimit | null;
  /** Most jobs of the function running at once, across all its workers. */
  readonly concurrency?: number | null;
}

/** A function that is paused or limited, as `controls()` and `show functions` list it. */
export interface FunctionControl {
  readonly functionName: string;
  readonly paused: boolean;
  readonly rate: RateLimit | null;
  readonly concurrency: number | null;
}

/** Which ticks missed while the server was down are submitted at its start. */
export type CatchUp = 'none' | 'latest' | 'all';

/**
 * A recurring background job (`schedule`): one job per tick, of a cron expression (five
 * fields, or six with seconds first; in `timezone`, default UTC) or every `every` ms.
 */
export interface ScheduleOptions {
  readonly cron?: string;
  readonly every?: number;
  /** An IANA time zone for `cron` (e.g. `Europe/Berlin`). Default UTC. */
  readonly timezone?: string;
  readonly functionName: string;
  readonly payload?: PayloadInput;
  readonly priority?: Priority;
  /**
   * Each tick's job has the unique id `<unique>:<tick ms>`, so that a tick's job exists once.
   * Default: the schedule's id.
   */
  readonly unique?: string;
  /** Default `latest`: one job for the newest tick missed while down. */
  readonly catchUp?: CatchUp;
}

/** A node of the job server's queue, as `nodes()` lists it (one for the local queue). */
export interface NodeInfo {
  /** Random, new at every start. */
  readonly id: string;
  /** `nodeName` (default `host:pid`). */
  readonly name: string;
  /** When it started (ms since 1970, the database's clock for a shared queue). */
  readonly startedAt: number;
  /** Its last heartbeat (ms since 1970); a local queue's is now. */
  readonly heartbeatAt: number;
  /** The jobs it runs now (claimed for its workers, on a shared queue). */
  readonly running: number;
  /** The functions its workers can do, as it last said. */
  readonly functions: readonly string[];
  /** Whether it is the node that answered. */
  readonly self: boolean;
}

/** A schedule as `schedules()` lists it. */
export interface ScheduleInfo {
  readonly id: string;
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string | null;
  readonly functionName: string;
  readonly payload: Buffer;
  readonly priority: Priority;
  readonly unique: string;
  readonly catchUp: CatchUp;
  /** When the schedule was defined (its `every` ticks count from it). */
  readonly since: number;
  /** The last tick submitted, or null. */
  readonly lastTick: number | null;
  /** The next tick, or null when the cron expression has none left. */
  readonly nextTick: number | null;
}
