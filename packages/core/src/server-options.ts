import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from './errors.js';
import { checkFields, checkOptions, checkRetention } from './internal/checks.js';
import { QUEUE_KEYS } from './internal/option-keys.js';
import { DEFAULT_RETENTION } from './internal/outcomes.js';
import { releaseHeap } from './internal/heap.js';
import type { PartsOptions } from './internal/parts.js';
import { ServerTimers } from './internal/timers.js';
import type { QueueBackend } from './queue-backend.js';
import { retriesOf, type Retries, type RetryPolicy } from './retry.js';
import type { JobStore } from './store.js';
import type { QueueLimits, Retention } from './types.js';
import type { LoggerLike } from './worker-types.js';

// The job server's options, what each must be, and the parts' options made of them.

export interface JobServerOptions {
  /**
   * Every timer (delayed jobs, back-offs, timeouts, schedules, rate limits, wake-ups) runs
   * on it. Default: the real clock, with timers that do not keep the process alive unless
   * someone in the process waits for what they bring (a foreground result, a `close()`).
   * Pass rxjs's `asyncScheduler` for timers that always keep it alive, or a `TestScheduler`
   * for virtual time.
   */
  scheduler?: SchedulerLike;
  /** Handles are `<prefix>:<n>`. Default `H:<hostname>`, as gearmand. */
  handlePrefix?: string;
  /**
   * How many times a job whose worker was lost is handed out again before it fails
   * (`RETRIES_EXHAUSTED`). Default unlimited, as gearmand.
   */
  maxRetries?: number;
  /** Default queue limit of every function: one number for all priorities, or per priority. 0 = unlimited. */
  maxQueue?: number | Partial<QueueLimits>;
  /** Longest unique id accepted, in bytes. Default 64, as gearmand. */
  maxUniqueLength?: number;
  /**
   * A shared queue's backend (`@geartrain/postgres`; `@geartrain/testing`'s double): this
   * server becomes one node of a cluster whose background jobs wait in it, run by the
   * workers of any node (decision 33). Foreground jobs stay on this node. Not with `store`.
   */
  queue?: QueueBackend | null;
  /** How this node shows in a shared queue's listings. Default `<hostname>:<pid>`. */
  nodeName?: string;
  /**
   * Where background jobs are persisted. By default they live only in the server's memory
   * (no copy is kept anywhere else). Pass a {@link MemoryJobStore} shared between server
   * instances to replay jobs across them (restarts in tests), or a durable store.
   */
  store?: JobStore | null;
  /**
   * How many sleeping workers are woken (sent NOOP) per queued job that no woken worker has
   * been promised: 1 by default; 0 wakes every sleeping worker of the function for every
   * job, as gearmand does by default (`--worker-wakeup`).
   */
  workerWakeup?: number;
  /**
   * How long, in ms, a woken worker has to ask for work while its function still has queued
   * jobs; after it, every sleeping worker of that function is woken, so a dead or hung
   * worker cannot hold a job back. Default 100; `Infinity` never falls back (not advised).
   */
  wakeTimeout?: number;
  /** Whether connections opened by adapters get exceptions without asking (gearmand `--exceptions`). */
  exceptions?: boolean;
  /** Store failures and other internal troubles are logged here. */
  logger?: LoggerLike;
  /**
   * Retry policies by function, in force from the start (before the jobs of a store are
   * replayed, so that their attempts are counted against them). See `setJobPolicy`.
   */
  jobPolicies?: Readonly<Record<string, JobPolicy>>;
  /** 0 ≤ r < 1 for the jitter of back-offs. Default Math.random; tests give their own. */
  random?: () => number;
  /**
   * What every function keeps of its ended background jobs, unless its policy says
   * otherwise. Default: failed jobs (the newest 1,000, for 7 days), not completed ones.
   */
  keep?: Retention;
  /** Bytes of a result or of an exception's data kept in an outcome. Default 4096. */
  outcomeDataLimit?: number;
  /**
   * What is done once a burst of jobs has drained (50,000 jobs or 32 MiB of payloads held at
   * once, then down to an eighth of that for a second). By default (true) the server runs
   * one full garbage collection, so that the memory of the burst goes back to the system
   * instead of staying with an idle process (decision 28); it is logged at info. false does
   * nothing; a function is called instead, with the burst's peak (an application that runs
   * its own collections, or a test).
   */
  releaseMemory?: boolean | ((burst: BurstPeak) => void);
}

/** The most a burst of jobs held at once (see `releaseMemory`). */
export interface BurstPeak {
  readonly jobs: number;
  /** Their payloads' bytes. */
  readonly bytes: number;
}

/**
 * What the server does with the jobs of one function (`setJobPolicy`): how often they are
 * tried (`attempts`, `backoff`) and what is kept of them once they ended (`keep`).
 */
export interface JobPolicy {
  /** Attempts in all, the first included. Default 1. */
  readonly attempts?: number;
  readonly backoff?: RetryPolicy['backoff'];
  readonly keep?: Retention;
}

export interface CloseOptions {
  /** Running jobs get this many ms to finish before they are aborted. Default 30 s. */
  timeout?: number;
}

/** What every job store has (store.ts); the rest of its methods are optional. */
const STORE_METHODS = ['add', 'update', 'remove', 'list', 'highestSeq'] as const;

function checkStore(store: JobStore): void {
  const missing = STORE_METHODS.filter(
    (name) => typeof (store as Partial<JobStore> | null)?.[name] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `store must be a JobStore (or null); it lacks ${missing.join(', ')}`,
    );
  }
}

/** See {@link JobServerOptions.wakeTimeout}. */
export const DEFAULT_WAKE_TIMEOUT = 100;

/**
 * The retry part of a function's policy, checked with the rest of it; null when it sets
 * none (one attempt). `what` names it in errors: a path into a config file, say.
 * @throws InvalidArgumentError
 */
export function retriesOfPolicy(policy: JobPolicy, what: string): Retries | null {
  checkFields(policy, what, ['attempts', 'backoff', 'keep']);
  if (policy.keep !== undefined) checkRetention(policy.keep, `${what}.keep`);
  if (policy.attempts === undefined && policy.backoff === undefined) return null;
  return retriesOf({ attempts: 1, ...policy });
}

export function limitsOf(value: number | Partial<QueueLimits> | undefined): QueueLimits {
  if (value === undefined) return { high: 0, normal: 0, low: 0 };
  if (typeof value === 'number') return { high: value, normal: value, low: value };
  checkOptions(value, 'queue limits (a number, or one per priority)', QUEUE_KEYS);
  return { high: value.high ?? 0, normal: value.normal ?? 0, low: value.low ?? 0 };
}

/**
 * Checks a job server's options and makes its parts' options of them.
 * @throws InvalidArgumentError
 */
export function partsOptions(
  options: JobServerOptions,
  scheduler: SchedulerLike,
  logger: LoggerLike | undefined,
): PartsOptions {
  const maxRetries = options.maxRetries ?? Infinity;
  if (!(maxRetries >= 0)) throw new InvalidArgumentError('maxRetries must be ≥ 0');
  if (options.keep !== undefined) checkRetention(options.keep, 'keep');
  const workerWakeup = options.workerWakeup ?? 1;
  if (!Number.isSafeInteger(workerWakeup) || workerWakeup < 0) {
    throw new InvalidArgumentError('workerWakeup must be a whole number ≥ 0');
  }
  const wakeTimeout = options.wakeTimeout ?? DEFAULT_WAKE_TIMEOUT;
  if (!(wakeTimeout > 0)) throw new InvalidArgumentError('wakeTimeout must be > 0 ms');
  const store = options.store ?? null;
  if (store !== null) checkStore(store);
  const backend = options.queue ?? null;
  if (backend !== null && store !== null) {
    throw new InvalidArgumentError('give a store or a shared queue, not both');
  }
  return {
    workerWakeup,
    wakeTimeout,
    scheduler,
    // A virtual clock jumps inside one synchronous flush, so its readings are not shared.
    realClock: scheduler === asyncScheduler || scheduler instanceof ServerTimers,
    handlePrefix: options.handlePrefix ?? `H:${hostname()}`,
    maxRetries,
    maxUniqueLength: options.maxUniqueLength ?? 64,
    maxQueue: limitsOf(options.maxQueue),
    store,
    retries: new Map(
      Object.entries(options.jobPolicies ?? {}).flatMap(([name, policy]) => {
        const retries = retriesOfPolicy(policy, `jobPolicies.${name}`);
        return retries === null ? [] : [[name, retries] as const];
      }),
    ),
    random: options.random ?? Math.random,
    retention: {
      completed: options.keep?.completed ?? DEFAULT_RETENTION.completed,
      failed: options.keep?.failed ?? DEFAULT_RETENTION.failed,
    },
    outcomeDataLimit: options.outcomeDataLimit ?? 4096,
    onBurstDrained: burstDrained(options.releaseMemory ?? true, logger),
    onStoreError: (error, handle, operation) =>
      logger?.error({ err: error, record: handle }, `job store failed to ${operation} a record`),
    onTickError: (error, scheduleId, tick) =>
      logger?.error(
        { err: error, schedule: scheduleId, tick },
        `schedule ${scheduleId} could not submit its tick of ${new Date(tick).toISOString()}`,
      ),
    shared:
      backend === null
        ? null
        : {
            backend,
            node: {
              id: randomUUID(),
              name: options.nodeName ?? `${hostname()}:${process.pid}`,
            },
            claimBatch: 32,
            pollInterval: 1000,
            progressInterval: 250,
            onStale: (report) =>
              logger?.warn?.(
                { record: report.handle, attempt: report.attempt },
                'a report for an attempt this node no longer holds was refused',
              ),
            onError: (error, operation) =>
              logger?.error({ err: error }, `shared queue failed to ${operation}`),
          },
  };
}

/** What `releaseMemory` asks for, as the queue's callback. */
function burstDrained(
  release: NonNullable<JobServerOptions['releaseMemory']>,
  logger: LoggerLike | undefined,
): ((peak: BurstPeak) => void) | null {
  if (release === false) return null;
  if (release !== true) return release;
  return (peak) => {
    logger?.info({ burst: peak }, `a burst of ${peak.jobs} jobs drained`);
    releaseHeap(logger);
  };
}
