import type { FailReason, JobUpdate } from '../types.js';
import type { Assignment, SubmitOutcome, SubmitRequest } from '../transport-types.js';
import type { FunctionEntry, Job, JobListener, PriorityIndex, WorkerState } from './job.js';

// The seam between this node's dispatcher and the queue (decision 33). The dispatcher owns
// connections, workers, sleep and wake-ups, assignments and the clients waiting on jobs;
// the queue owns where jobs wait and how they end. Every call across it is synchronous:
// the local queue answers at once and allocates nothing for it, and a queue that must ask
// a database keeps what the dispatcher takes (its claimed jobs) at hand, and answers the
// rest through its Promises and its calls into the host.

/** What the queue asks of the dispatcher. */
export interface QueueHost {
  /** Jobs of `fn` may start now (queued, due, claimed, a gate opened): wake its sleepers. */
  waiting(fn: FunctionEntry): void;
  /**
   * The running attempt of `job` ends: its worker is free of it (before the job leaves the
   * queue). `endedAt`: the end of the run if it was just read, else NaN.
   */
  release(job: Job, endedAt: number): void;
  /** Tells the clients waiting on `job` (its attachments) of an update. */
  broadcast(job: Job, update: JobUpdate): void;
  /** Tells a worker that a job it holds was taken back. */
  revoke(holder: WorkerState, handle: string, reason: FailReason): void;
}

/** What the dispatcher asks of the queue: jobs in, jobs out, and how each attempt ended. */
export interface JobQueue {
  /** Plugs the dispatcher in (once, before any other call). */
  attach(host: QueueHost): void;

  /**
   * Accepts or coalesces a submission; a foreground one's listener is attached to the job.
   * A value when the queue knows at once, a Promise while a write must be confirmed first.
   */
  submit(
    owner: WorkerState,
    request: SubmitRequest,
    listener: JobListener | undefined,
  ): SubmitOutcome | Promise<SubmitOutcome>;
  /** The last client of a foreground job left: a job that has not started is dropped. */
  abandoned(job: Job): void;

  /**
   * A worker sleeps, or asked for a job and found none, with room for jobs of its functions:
   * a queue that claims jobs for this node's workers (a shared one) claims some for it. The
   * local queue has nothing to do.
   */
  idle(worker: WorkerState): void;
  /** How many jobs of `fn` may start now (as many workers are worth waking). */
  startable(fn: FunctionEntry): number;
  /** The next job of `fn` at `priority` that may start now, marked as running; or null. */
  take(fn: FunctionEntry, priority: PriorityIndex): Job | null;
  /** Whether a start of `job` is stamped (its outcome will show when it started). */
  stampsStart(job: Job): boolean;
  /** When `job` was queued (ms on the scheduler's clock), or 0 if not measured. */
  queuedAt(job: Job): number;

  /** The job a connection holds under `handle`, if it is one of this queue's live jobs. */
  byHandle(handle: string): Job | undefined;

  // How a running attempt ended. Each names the job its worker holds now: the dispatcher
  // refuses a report for a job the worker no longer holds before it gets here.
  /** The running job's progress changed (its run holds the numbers); the queue reports it. */
  progress(job: Job): void;
  /**
   * The running job sent data or a warning (its clients here have it): a shared queue
   * passes it on to the other nodes that wait for the job; the local queue has no others.
   */
  passOn(job: Job, update: Extract<JobUpdate, { type: 'data' | 'warning' }>): void;
  complete(job: Job, data: Buffer): void;
  /** `thrown`: what an in-process handler threw, kept with the job's outcome. */
  fail(job: Job, thrown?: unknown): void;
  exception(job: Job, data: Buffer, thrown?: unknown): void;
  /** The job's worker went away (disconnect, CANT_DO) or its timeout ran out. */
  lost(job: Job): void;
  /**
   * The worker gives back a job it never started (a shared queue's node that claimed it and
   * no longer wants it): first in its queue again, the attempt not counted; a foreground job
   * nobody waits for any more is dropped.
   */
  giveBack(job: Job): void;
  timedOut(job: Job): void;

  // Shutdown (JobServer.close), in this order.
  /** No new submissions from now on. */
  beginClose(): void;
  /** Fails the foreground jobs no worker started (`SHUTDOWN`). */
  failWaitingForeground(): void;
  /** At the end of the deadline: running jobs are taken back from their workers. */
  abortRunning(): void;
  stopTimers(): void;
}

export type { Assignment };
