import type { RetryPolicy } from './retry.js';
import type { FailReason, JobUpdate, Priority } from './types.js';

// What a transport hands the server and gets back through a `Connection`.

/** A submission, as every transport hands it to the server. */
export interface SubmitRequest {
  readonly functionName: string;
  readonly payload?: Buffer | Uint8Array | string | null;
  /** Unique id: empty or absent never coalesces; `-` coalesces by payload (reference §3.2). */
  readonly unique?: string;
  readonly priority?: Priority;
  readonly background?: boolean;
  /** When a background job becomes runnable, in ms on the scheduler's clock. */
  readonly runAt?: number;
  readonly reducer?: string;
  /** The job's own retry policy (in process); else its function's (`setJobPolicy`). */
  readonly retry?: RetryPolicy;
  /** The application's transaction the job is written in (a shared queue's; in process). */
  readonly transaction?: unknown;
}

export interface SubmitOutcome {
  readonly handle: string;
  /** True when the submission joined an existing job with the same unique id. */
  readonly coalesced: boolean;
}

/** A job as handed to a worker. */
export interface Assignment {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly payload: Buffer;
  readonly reducer: string;
  /** 1 for the first assignment, then one more per retry. */
  readonly attempt: number;
  /** The function's timeout for this connection in ms, 0 for none. */
  readonly timeout: number;
}

/** Receives the updates of one foreground submission. The connection contract's side. */
export interface JobListener {
  /** Whether this submission receives exceptions (else a `fail` with reason `EXCEPTION`). */
  readonly exceptions: boolean;
  update(handle: string, update: JobUpdate): void;
  /**
   * A result, for a listener that needs no handle with it: the in-process server calls this
   * instead of `update`, and so need not make the handle string.
   */
  completed?(update: Extract<JobUpdate, { type: 'complete' }>): void;
  /**
   * The job's outcome can no longer arrive (the TCP client lost the server holding it):
   * the submission ends with `error`. The in-process server never calls it.
   */
  lost?(handle: string, error: Error): void;
}

/** What the server tells a connection on its own initiative. */
export interface ConnectionSink {
  /**
   * Work may be available for this sleeping worker (Gearman NOOP). Must not grab
   * synchronously: schedule the grab (the server is in the middle of an operation).
   */
  wake(): void;
  /**
   * The server took back a job this connection holds: it timed out, was cancelled, or the
   * server is shutting down. A result sent for it later is refused with JOB_NOT_FOUND.
   */
  revoked?(handle: string, reason: FailReason): void;
}

export interface ConnectionOptions {
  /** Shown by the `workers` admin command (gearmand shows the peer's IP address). */
  address?: string;
  sink?: ConnectionSink;
}

export interface CanDoOptions {
  /** A job of this function assigned to this connection fails after this many ms (0: never). */
  timeout?: number;
  /** How many jobs of this function the connection takes at once (default: no limit). */
  capacity?: number;
}
