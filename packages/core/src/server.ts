import { hostname } from 'node:os';
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import { InProcessClient, type ClientOptions } from './client.js';
import { Connection, type ConnectionOptions, type ConnectionSink } from './connection.js';
import { InvalidArgumentError, JobNotFoundError } from './errors.js';
import { Engine } from './internal/engine.js';
import { checkFields, checkOptions, checkRetention, refusal } from './internal/checks.js';
import {
  CLIENT_KEYS,
  CLOSE_KEYS,
  CONNECTION_KEYS,
  JOB_FILTER_KEYS,
  OUTCOME_FILTER_KEYS,
  QUEUE_KEYS,
  SERVER_KEYS,
  WORKER_KEYS,
} from './internal/option-keys.js';
import type { LoggerLike, WorkerOptions } from './worker-types.js';
import type { JobStore } from './store.js';
import { untilDeadline } from './internal/deadline.js';
import type {
  ConnectionInfo,
  ScheduleInfo,
  ScheduleOptions,
  FunctionControl,
  FunctionLimits,
  FunctionStatus,
  FunctionTimings,
  JobEvent,
  JobFilter,
  OutcomeFilter,
  JobInfo,
  JobStatus,
  QueueLimits,
  UniqueJobStatus,
  JobOutcome,
  Retention,
} from './types.js';
import { InProcessWorker } from './in-process-worker.js';
import { retriesOf, type Retries, type RetryPolicy } from './retry.js';
import { DEFAULT_RETENTION } from './internal/outcomes.js';
import { releaseHeap } from './internal/heap.js';
import { ServerTimers } from './internal/timers.js';

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
function retriesOfPolicy(policy: JobPolicy, what: string): Retries | null {
  checkFields(policy, what, ['attempts', 'backoff', 'keep']);
  if (policy.keep !== undefined) checkRetention(policy.keep, `${what}.keep`);
  if (policy.attempts === undefined && policy.backoff === undefined) return null;
  return retriesOf({ attempts: 1, ...policy });
}

function limitsOf(value: number | Partial<QueueLimits> | undefined): QueueLimits {
  if (value === undefined) return { high: 0, normal: 0, low: 0 };
  if (typeof value === 'number') return { high: value, normal: value, low: value };
  checkOptions(value, 'queue limits (a number, or one per priority)', QUEUE_KEYS);
  return { high: value.high ?? 0, normal: value.normal ?? 0, low: value.low ?? 0 };
}

/**
 * A Gearman job server living in this process. Open connections to it with `client()`,
 * `worker()` or, for transports, `connect()`.
 */
export class JobServer {
  readonly scheduler: SchedulerLike;
  /** Resolves once the jobs left in the store by a previous run are queued again. */
  readonly ready: Promise<void>;
  /** Whether adapter connections receive exceptions without asking (gearmand `--exceptions`). */
  readonly exceptions: boolean;

  private readonly engine: Engine;
  private readonly connectionsById = new Map<number, Connection>();
  private readonly workersSet = new Set<InProcessWorker>();
  private connectionSeq = 0;
  private closePromise: Promise<void> | null = null;
  /** While `close()` is under way. */
  private closing = false;
  private readonly logger: LoggerLike | undefined;

  constructor(options: JobServerOptions = {}) {
    checkOptions(options, 'server options', SERVER_KEYS);
    this.scheduler = options.scheduler ?? new ServerTimers(() => this.waiting());
    this.exceptions = options.exceptions ?? false;
    this.logger = options.logger;
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
    this.engine = new Engine({
      workerWakeup,
      wakeTimeout,
      scheduler: this.scheduler,
      // A virtual clock jumps inside one synchronous flush, so its readings are not shared.
      realClock: this.scheduler === asyncScheduler || this.scheduler instanceof ServerTimers,
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
      onBurstDrained: this.burstDrained(options.releaseMemory ?? true),
      onStoreError: (error, handle, operation) =>
        this.logger?.error(
          { err: error, record: handle },
          `job store failed to ${operation} a record`,
        ),
      onTickError: (error, scheduleId, tick) =>
        this.logger?.error(
          { err: error, schedule: scheduleId, tick },
          `schedule ${scheduleId} could not submit its tick of ${new Date(tick).toISOString()}`,
        ),
    });
    for (const [name, policy] of Object.entries(options.jobPolicies ?? {})) {
      if (policy.keep !== undefined) this.engine.setRetention(name, policy.keep);
    }
    // Synchronous for a synchronous store: its jobs are queued before the constructor returns.
    this.ready = this.engine.replayStored();
  }

  /** What `releaseMemory` asks for, as the engine's callback. */
  private burstDrained(
    release: NonNullable<JobServerOptions['releaseMemory']>,
  ): ((peak: BurstPeak) => void) | null {
    if (release === false) return null;
    if (release !== true) return release;
    return (peak) => {
      this.logger?.info({ burst: peak }, `a burst of ${peak.jobs} jobs drained`);
      releaseHeap(this.logger);
    };
  }

  /**
   * Sets (or with null, removes) the retry policy of a function's jobs, whoever submits them
   * (PHP and `gearman` over TCP included); a job's own policy (`submit` options) comes first.
   * An attempt fails by WORK_FAIL, WORK_EXCEPTION, a timeout or a lost worker; the job then
   * waits for its back-off under the same handle, and fails for good after `attempts`.
   * @throws InvalidArgumentError for a bad policy or function name
   */
  setJobPolicy(functionName: string, policy: JobPolicy | null): void {
    const retries = policy === null ? null : retriesOfPolicy(policy, 'policy');
    this.engine.setRetryPolicy(functionName, retries);
    this.engine.setRetention(functionName, policy?.keep ?? null);
  }

  /** A function's policy, or null (none: one attempt, the server's retention). */
  jobPolicy(functionName: string): JobPolicy | null {
    const retry = this.engine.retryPolicy(functionName);
    const keep = this.engine.retention(functionName);
    if (retry === null && keep === null) return null;
    return { ...(retry ?? {}), ...(keep === null ? {} : { keep }) };
  }

  /** How a background job ended, while it is kept (see `JobPolicy.keep`); else undefined. */
  outcome(handle: string): JobOutcome | undefined {
    return this.engine.outcome(handle)?.view();
  }

  /**
   * Kept outcomes, oldest end first: of one function or all, completed or failed or both;
   * with `limit`, only the newest that many (read from the newest end, so the newest 100 of
   * a million kept cost 100). Throws `INVALID_ARGUMENT` for a bad limit.
   */
  outcomes(options: OutcomeFilter = {}): JobOutcome[] {
    checkOptions(options, 'outcomes options', OUTCOME_FILTER_KEYS);
    return this.engine
      .keptOutcomes(options.functionName, options.state, options.limit)
      .map((o) => o.view());
  }

  /** How many outcomes are kept (of one function, of one state), without reading them. */
  outcomeCount(options: Omit<OutcomeFilter, 'limit'> = {}): number {
    checkOptions(options, 'outcomeCount options', OUTCOME_FILTER_KEYS);
    return this.engine.keptOutcomeCount(options.functionName, options.state);
  }

  /**
   * Runs a failed job (a dead letter) again: queued under the same handle with a fresh
   * attempt count. Resolves with the handle that runs it: another live job's when one holds
   * its unique id now (that job is the same work; the dead letter then stays kept).
   * @throws JobNotFoundError when no failed outcome is kept under it.
   */
  async retry(handle: string): Promise<string> {
    const outcome = this.engine.resubmit(handle);
    if (outcome === undefined) {
      throw new JobNotFoundError(handle, `no failed job is kept under ${handle}`);
    }
    return (await outcome).handle;
  }

  /** Discards a kept outcome; returns whether there was one. */
  discard(handle: string): boolean {
    return this.engine.discardOutcome(handle);
  }

  /** Discards every failed outcome of a function; returns how many. */
  discardFailed(functionName: string): number {
    return this.engine.discardFailed(functionName);
  }

  /**
   * Defines a recurring background job: one job of `functionName` per tick of a cron
   * expression (seconds optional, in a time zone; UTC by default) or every `every` ms. Each
   * tick's job has the unique id `<unique>:<tick ms>`, so it exists once. With a store, the
   * schedule and its last tick survive a restart; ticks missed meanwhile follow `catchUp`.
   * Redefining an id with the same timing keeps its last tick. Resolves when stored.
   * @throws InvalidArgumentError for a bad expression, interval, zone or name
   */
  async schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    await this.ready;
    return this.engine.schedules.define(id, options);
  }

  /** Removes a schedule (its jobs already submitted stay); resolves with whether it existed. */
  async unschedule(id: string): Promise<boolean> {
    await this.ready;
    return this.engine.schedules.remove(id);
  }

  /** The schedules, by id, with their last and next ticks. */
  schedules(): ScheduleInfo[] {
    return this.engine.schedules.list();
  }

  /**
   * Pauses a function: its jobs are still accepted, stored and queued (delayed ones become
   * due as ever), but none is handed to a worker until `resume`; jobs running now finish.
   * In force at once, and kept by the store across a restart: the Promise resolves when the
   * store has it (a StoreError when it could not keep it).
   */
  async pause(functionName: string): Promise<void> {
    await this.engine.setPaused(functionName, true);
  }

  /** Resumes a paused function: its sleeping workers are woken for its queued jobs. */
  async resume(functionName: string): Promise<void> {
    await this.engine.setPaused(functionName, false);
  }

  /** Whether a function is paused. */
  paused(functionName: string): boolean {
    return this.engine.control(functionName).paused;
  }

  /**
   * Limits when a function's jobs start, across all its workers (in process, TCP, threads):
   * at most `rate.max` start in any `rate.duration` ms, and at most `concurrency` run at
   * once. Jobs over the limit stay queued, in order; workers that ask are told there is
   * none (NO_JOB) and are woken when the limit allows. null removes both. Kept by the store
   * like a pause.
   * @throws InvalidArgumentError for a bad limit or function name
   */
  async setFunctionLimits(functionName: string, limits: FunctionLimits | null): Promise<void> {
    await this.engine.setLimits(functionName, limits);
  }

  /** A function's limits (nulls when it has none). */
  functionLimits(functionName: string): Required<FunctionLimits> {
    const { rate, concurrency } = this.engine.control(functionName);
    return { rate, concurrency };
  }

  /** The functions that are paused or limited (admin `show functions`), by name. */
  controls(): FunctionControl[] {
    return this.engine.controls();
  }

  /** Every job transition. Events are only built while someone subscribes. */
  get events$(): Observable<JobEvent> {
    return this.engine.events.asObservable();
  }

  get closed(): boolean {
    return this.engine.closing;
  }

  /** Opens a connection: the contract the TCP adapter and the thread pool use. */
  connect(options: ConnectionOptions = {}): Connection {
    checkOptions(options, 'connection options', CONNECTION_KEYS);
    const connection = new Connection(this.engine, ++this.connectionSeq, options, (c) =>
      this.connectionsById.delete(c.id),
    );
    this.connectionsById.set(connection.id, connection);
    return connection;
  }

  /** An in-process client. */
  client(options?: ClientOptions): InProcessClient {
    checkOptions(options, 'client options', CLIENT_KEYS);
    return new InProcessClient(this.connect(), () => this.scheduler.now(), options);
  }

  /** An in-process worker; it starts on the next microtask unless `autorun: false`. */
  worker(options?: WorkerOptions): InProcessWorker {
    checkOptions(options, 'worker options', WORKER_KEYS);
    // A worker's own timers (its jobs' timeouts, `maxRunTime`) bound work the application
    // runs, so they keep the process alive as that work does; the server's do not.
    const scheduler = this.scheduler instanceof ServerTimers ? asyncScheduler : this.scheduler;
    const worker = new InProcessWorker(
      (sink: ConnectionSink) => this.connect({ sink }),
      scheduler,
      options,
    );
    this.workersSet.add(worker);
    void worker.done.then(() => this.workersSet.delete(worker));
    return worker;
  }

  status(handle: string): JobStatus {
    return this.engine.status(handle);
  }

  statusByUnique(unique: string, functionName?: string): UniqueJobStatus {
    return this.engine.statusByUnique(unique, functionName);
  }

  /** Cancels a queued, delayed or running job; false when there is no such job. */
  cancel(handle: string): boolean {
    return this.engine.cancel(handle);
  }

  /** Creates an empty function entry (admin `create function`). */
  createFunction(functionName: string): void {
    this.engine.functions.create(functionName);
  }

  /**
   * Removes a function (admin `drop function`).
   * @throws FunctionNotFoundError, FunctionBusyError (workers registered or jobs live)
   */
  dropFunction(functionName: string): void {
    this.engine.functions.drop(functionName);
  }

  /** Sets a function's queue limits (admin `maxqueue`); false when the function does not exist. */
  setMaxQueue(functionName: string, limits: number | Partial<QueueLimits>): boolean {
    return this.engine.functions.setLimits(functionName, limitsOf(limits));
  }

  /** Statistics per function (admin `status`, `prioritystatus`). */
  functions(): FunctionStatus[] {
    return this.engine.functionStatus();
  }

  /**
   * Starts measuring every function's wait and run times (see `timings`). Off until asked,
   * since it reads the clock at each start and end; `@geartrain/dashboard` turns it on.
   */
  measureTimings(): void {
    this.engine.measureTimings();
  }

  /** Wait and run time histograms per function, since `measureTimings` (none before). */
  timings(): FunctionTimings[] {
    return this.engine.timings();
  }

  /** Open connections with their registrations (admin `workers`). */
  connections(): ConnectionInfo[] {
    return [...this.connectionsById.values()].map((c) => ({
      id: c.id,
      address: c.address,
      clientId: c.clientId,
      functions: c.functions,
    }));
  }

  /**
   * Live jobs (admin `show jobs`), or those of one state or function, at most `limit`:
   * `jobs({ state: 'running', limit: 100 })` visits only running jobs, so it stays cheap
   * beside a long queue. Throws `INVALID_ARGUMENT` for a bad limit or state.
   */
  jobs(filter?: JobFilter): JobInfo[] {
    checkOptions(filter, 'jobs filter', JOB_FILTER_KEYS);
    return this.engine.jobInfo(filter);
  }

  /** A live job by its handle, or undefined (ended, or never known). */
  job(handle: string): JobInfo | undefined {
    return this.engine.jobInfoOf(handle);
  }

  /** Unique ids of live jobs, `''` for those without (admin `show unique jobs`). */
  uniqueJobs(): string[] {
    return this.engine.jobInfo().map((job) => job.unique);
  }

  /**
   * Closes gracefully: no new submissions or assignments; waiting foreground jobs fail
   * (`SHUTDOWN`); running jobs get `timeout` ms to finish, then are aborted. Background jobs
   * not finished stay in the store for the next start. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    const refused = refusal(() => checkOptions(options, 'close options', CLOSE_KEYS));
    if (refused !== null) return refused;
    if (this.closePromise === null) {
      this.closing = true;
      this.closePromise = this.shutdown(options.timeout ?? 30_000).finally(
        () => (this.closing = false),
      );
    }
    return this.closePromise;
  }

  /**
   * Whether someone in this process waits for what the server's timers bring (see
   * ServerTimers): the end of a `close()`, a subscriber to `events$`, a schedule (it runs
   * until removed, as `setInterval` does), or a foreground job's outcome.
   */
  private waiting(): boolean {
    const engine = this.engine;
    if (this.closing || engine.events.observed || engine.schedules.size > 0) return true;
    for (const connection of this.connectionsById.values()) {
      if (connection.waiting > 0) return true;
    }
    return false;
  }

  private async shutdown(timeout: number): Promise<void> {
    const engine = this.engine;
    engine.beginClose();
    engine.failWaitingForeground();
    const workersStopped = Promise.all(
      [...this.workersSet].map((w) => w.close({ timeout, reason: 'serverClosed' })),
    );
    if (engine.runningJobs().length > 0) {
      await untilDeadline(engine.whenNoneRunning(), this.scheduler, timeout, () =>
        engine.abortRunning(),
      );
    }
    await workersStopped;
    for (const connection of [...this.connectionsById.values()]) connection.close();
    engine.stopTimers();
    await engine.store?.close?.();
  }
}

/** Creates an in-process Gearman job server. */
export function createJobServer(options?: JobServerOptions): JobServer {
  return new JobServer(options);
}
