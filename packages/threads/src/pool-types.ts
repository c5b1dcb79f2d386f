import type { JobHandler, JobServer, RegisterOptions, WorkerCloseOptions } from '@geartrain/core';
import type { SchedulerLike } from 'rxjs';
import type { ResourceLimits } from 'node:worker_threads';
import type { HandlerSpec } from './messages.js';

// The thread pool's public types: its options, the worker it attaches per thread, its
// events and counters.

/** A function served by the pool: its module and export, and optionally its timeout. */
export interface PoolFunction extends HandlerSpec {
  /** A job fails after this many ms: its signal aborts, and its thread is terminated after `terminateGrace`. */
  readonly timeout?: number;
}

export interface ThreadPoolOptions {
  /** The functions the threads serve, by name. */
  readonly functions: Readonly<Record<string, PoolFunction | string>>;
  /** Threads kept alive. Default: the machine's parallelism less one (at least 1). */
  readonly threads?: number;
  /** Jobs one thread runs at once (for handlers that wait on I/O). Default 1. */
  readonly concurrencyPerThread?: number;
  /** Per-job timeout for functions that give none, in ms. Default: none. */
  readonly timeout?: number;
  /** After a job's signal aborts (timeout, cancel, shutdown), its thread gets this long to let go before it is terminated. Default 1000 ms. */
  readonly terminateGrace?: number;
  /** A thread is replaced after this many jobs. */
  readonly maxJobsPerThread?: number;
  /** A thread is replaced after running this many ms. */
  readonly maxThreadAge?: number;
  /** A thread is replaced when its V8 heap in use is above this many bytes after a job. */
  readonly maxHeapBytes?: number;
  /** V8 limits of each thread (a thread over them dies, and is replaced). */
  readonly resourceLimits?: ResourceLimits;
  /** First delay before replacing a crashed thread, doubled per crash in a row. Default 100 ms. */
  readonly restartDelay?: number;
  /** Longest delay before replacing a crashed thread. Default 10000 ms. */
  readonly maxRestartDelay?: number;
  /** Given to handlers as `workerData.user` (e.g. a SharedArrayBuffer). */
  readonly workerData?: unknown;
  /** Timers (back-off, grace, age); default rxjs `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** The thread entry script; default this package's `dist/thread.js`. */
  readonly threadEntry?: string | URL;
}

/**
 * What the pool needs of a worker: `register` and `close` (InProcessWorker, GearmanWorker).
 * A worker that has only the old name, `stop`, is still closed with it.
 */
export interface PoolWorker {
  register(functionName: string, handler: JobHandler, options?: RegisterOptions): unknown;
  close(options?: WorkerCloseOptions): Promise<void>;
}

/** How the pool closes (`pool.close`). */
export interface PoolCloseOptions {
  /** Running jobs get this many ms to finish before they are aborted. Default 30 s. */
  readonly timeout?: number;
}

/** Where the pool takes its jobs: a job server (in-process workers), or a worker factory. */
export type PoolTarget = Pick<JobServer, 'worker'> | (() => PoolWorker);

/** The pool's lifecycle, as a supervisor reports it. */
export type ThreadEvent =
  | { readonly type: 'started'; readonly time: number; readonly thread: number }
  | {
      readonly type: 'exited';
      readonly time: number;
      readonly thread: number;
      readonly code: number;
    }
  | {
      readonly type: 'crashed';
      readonly time: number;
      readonly thread: number;
      readonly code: number;
      readonly error: Error | undefined;
      /** Jobs it held, given back to the server. */
      readonly jobs: number;
    }
  | {
      readonly type: 'restarted';
      readonly time: number;
      readonly thread: number;
      /** The crashed thread it replaces. */
      readonly replaces: number;
    }
  | {
      readonly type: 'recycled';
      readonly time: number;
      readonly thread: number;
      readonly reason: 'jobs' | 'age' | 'heap' | 'timeout';
    };

/** Counters since the pool started. */
export interface ThreadPoolStats {
  /** Threads alive and serving now. */
  readonly threads: number;
  /** Jobs whose outcome a thread reported. */
  readonly jobsRun: number;
  /** Of those, failures and exceptions. */
  readonly failures: number;
  readonly crashes: number;
  /** Threads started to replace crashed ones. */
  readonly restarts: number;
  readonly recycles: number;
}
