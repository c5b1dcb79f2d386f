import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import type { PayloadInput } from './types.js';

// The worker's public types: what handlers, policies and transports see. They live apart
// from the implementation so that policies and workers can both depend on them.

/** What a handler receives: the job, and the means to report on it. */
export interface JobContext {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly payload: Buffer;
  /** 1 for the first assignment, 2 for the first retry, … */
  readonly attempt: number;
  /**
   * Aborts when the job times out, is cancelled, or the worker or server shuts down past
   * its deadline. The job's outcome is then decided: whatever the handler returns is dropped.
   */
  readonly signal: AbortSignal;
  /** The payload decoded as UTF-8. */
  text(): string;
  /** The payload parsed as JSON. */
  json<T = unknown>(): T;
  /** Progress (WORK_STATUS), e.g. `status(3, 14)`. */
  status(numerator: number, denominator: number): void;
  /** A chunk of partial result (WORK_DATA). */
  data(chunk: PayloadInput): void;
  /** A warning (WORK_WARNING). */
  warning(chunk: PayloadInput): void;
}

/**
 * Works one job. Its return value is the result: a Buffer, Uint8Array or string as is,
 * `undefined`/`null` as an empty result, anything else as JSON. Throwing `WorkFail` fails
 * the job plainly (WORK_FAIL); any other throw or rejection is an exception
 * (WORK_EXCEPTION) carrying the error's message.
 */
export type JobHandler = (job: JobContext) => unknown;

export interface RegisterOptions {
  /** The job fails (`TIMEOUT`) after this many ms and its signal aborts. Default: none. */
  timeout?: number;
  /** Jobs of this function run at once by this worker. Default 1. */
  concurrency?: number;
}

/** Summary of a job in worker events. */
export interface WorkerJobInfo {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly attempt: number;
}

/**
 * A worker's lifecycle, as PHP worker libraries report it: run starts, the connection is
 * made, functions are registered, then for each job: received, before and after execute
 * (or failure); `idle` when a look for work found none and `waiting` while asleep for work;
 * `afterRun` once stopped. `time` is the scheduler's clock in ms.
 */
export type WorkerEvent =
  | { readonly type: 'beforeRun'; readonly time: number }
  | { readonly type: 'connecting'; readonly time: number }
  | { readonly type: 'connected'; readonly time: number }
  | {
      readonly type: 'beforeRegister';
      readonly time: number;
      readonly functions: readonly string[];
    }
  | { readonly type: 'afterRegister'; readonly time: number; readonly functions: readonly string[] }
  | { readonly type: 'idle'; readonly time: number }
  | { readonly type: 'waiting'; readonly time: number }
  | { readonly type: 'jobReceived'; readonly time: number; readonly job: WorkerJobInfo }
  | { readonly type: 'beforeExecute'; readonly time: number; readonly job: WorkerJobInfo }
  | {
      readonly type: 'afterExecute';
      readonly time: number;
      readonly job: WorkerJobInfo;
      readonly outcome: 'complete' | 'fail' | 'exception' | 'revoked';
      readonly duration: number;
      /** Jobs this worker has finished, this one included. */
      readonly jobsDone: number;
    }
  | {
      readonly type: 'failure';
      readonly time: number;
      readonly job: WorkerJobInfo;
      readonly error: unknown;
    }
  | {
      readonly type: 'afterRun';
      readonly time: number;
      readonly reason: string;
      readonly jobsDone: number;
    };

export interface WorkerOptions {
  /** SET_CLIENT_ID: shown by the `workers` admin command. */
  clientId?: string;
  /** Start working on the next microtask (after the registrations made right after creation). Default true. */
  autorun?: boolean;
  /** Stop after this many jobs. */
  maxJobs?: number;
  /** Stop this many ms after the run started. */
  maxRunTime?: number;
  /** Stop when memory use is above this many bytes (checked after each job and when idle). */
  memoryLimit?: number;
  /** How memory use is measured; default `process.memoryUsage().rss`. */
  measureMemory?: () => number;
  /** Log lifecycle events to a pino-compatible logger. */
  logger?: LoggerLike;
  /** More policies: functions of the worker's events that may stop it. */
  policies?: readonly WorkerPolicy[];
}

/** How a worker closes (`worker.close`). */
export interface WorkerCloseOptions {
  /**
   * Running jobs get this many ms to finish; then their signals abort and they go back to
   * the server. 0: at once. Default 30000.
   */
  timeout?: number;
  /** Reported in `afterRun`. Default `stopped`. */
  reason?: string;
}

/** @deprecated The old name of {@link WorkerCloseOptions}. */
export type StopOptions = WorkerCloseOptions;

/** What policies and the TCP worker share: a worker that emits events and can be closed. */
export interface WorkerLike {
  readonly events$: Observable<WorkerEvent>;
  readonly scheduler: SchedulerLike;
  close(options?: WorkerCloseOptions): Promise<void>;
  /** @deprecated The old name of `close`. */
  stop(options?: WorkerCloseOptions): Promise<void>;
}

/**
 * What a worker reports on a job it holds, one Gearman WORK_* packet each, as its transport
 * receives it from `WorkerBase` (payloads already Buffers).
 */
export type WorkReport =
  | { readonly type: 'status'; readonly numerator: number; readonly denominator: number }
  | { readonly type: 'data'; readonly data: Buffer }
  | { readonly type: 'warning'; readonly data: Buffer }
  | { readonly type: 'complete'; readonly data: Buffer }
  /** `error`: what the handler threw, for the job's kept outcome (in process only). */
  | { readonly type: 'fail'; readonly error?: unknown }
  | { readonly type: 'exception'; readonly data: Buffer; readonly error?: unknown };

/** A job handed to a worker, whatever the transport. */
export interface WorkAssignment {
  readonly handle: string;
  readonly functionName: string;
  readonly unique: string;
  readonly payload: Buffer;
  /** 1 for the first assignment, 2 for the first retry, … (1 when the server does not say). */
  readonly attempt: number;
}

/**
 * A logger with pino's call shape: `logger.info(object, message)`. pino, bunyan-like
 * loggers and `console` (which prints both arguments) all fit.
 */
export interface LoggerLike {
  debug?(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/**
 * A policy watches a worker's events and may stop it. It returns the subscription that
 * ends it (the worker ends it when it stops).
 */
export type WorkerPolicy = (worker: WorkerLike) => Subscription;
