import type { Observable } from 'rxjs';
import type { Backoff } from './retry.js';
import type { JobUpdate, PayloadInput, Priority } from './types.js';

// The in-process and network clients' options (types only: the modules that check them
// import no client).

export interface SubmitOptions {
  priority?: Priority;
  /** Jobs with the same function and unique id while one is queued or running are one job. */
  unique?: string;
  /** Fire and forget: no result, no updates; poll `status(handle)`. */
  background?: boolean;
  /** Run no earlier than this time (a Date, or ms on the server's clock). Implies background. */
  runAt?: Date | number;
  /** Run no earlier than this many ms from now. Implies background. */
  delay?: number;
  /** Abandons the submission: `result` rejects, the job itself goes on if others want it. */
  signal?: AbortSignal;
  /**
   * Attempts in all (the first included) before the job fails for good; in process only.
   * Default: the function's policy (`server.setJobPolicy`), else 1.
   */
  attempts?: number;
  /** The wait before each retry: a fixed delay in ms, or a `Backoff`. With `attempts`. */
  backoff?: Backoff | number;
  /**
   * The application's own database transaction the job belongs to (a shared queue in
   * PostgreSQL: a node-postgres client on which the application has begun a transaction).
   * The job exists only if that transaction commits, and workers are woken at the commit.
   * Background jobs only; `submit` resolves once the job is written in the transaction.
   */
  transaction?: unknown;
}

/** One job of a task set (`submitAll`, `runAll`). */
export interface Task extends Omit<SubmitOptions, 'signal' | 'transaction'> {
  functionName: string;
  payload?: PayloadInput;
}

export interface ClientOptions {
  /** Receive a handler's exception message (`JobExceptionError`); otherwise a plain failure. Default true. */
  exceptions?: boolean;
}

/** A submitted job, as a client sees it. */
export interface SubmittedJob {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly background: boolean;
  /** True when this submission joined a job already queued or running. */
  readonly coalesced: boolean;
  /**
   * The job's result. Rejects with `JobFailedError` (with its `reason`), `JobExceptionError`
   * (the handler threw; `data` is its message) or `SubmissionAbortedError`. A background job
   * has no result: it rejects with `InvalidArgumentError`. Created on first access, so an
   * ignored failure is never an unhandled rejection.
   */
  readonly result: Promise<Buffer>;
  /**
   * Every update of the job — data, warning, status, then complete, fail or exception —
   * replayed from the submission on, for any number of subscribers. Completes after the
   * final update; errors with `SubmissionAbortedError` if the submission is aborted.
   */
  readonly events$: Observable<JobUpdate>;
  /** The result decoded as UTF-8. */
  text(): Promise<string>;
  /** The result parsed as JSON. */
  json<T = unknown>(): Promise<T>;
}
