import type { SchedulerLike } from 'rxjs';
import type { QueueBackend } from './queue-backend.js';
import type { JobPolicy } from './retry.js';
import type { JobStore } from './store.js';
import type { QueueLimits, Retention } from './types.js';
import type { LoggerLike } from './worker-types.js';

// The job server's options (types only: the modules that check them import no server).

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
   * replayed, so that their attempts are counted against them). Each is set as `setJobPolicy`
   * sets it: it replaces the policy part (attempts, backoff, keep) of the function's settings,
   * and is stored with them.
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

export interface CloseOptions {
  /** Running jobs get this many ms to finish before they are aborted. Default 30 s. */
  timeout?: number;
}
