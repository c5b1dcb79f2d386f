import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import { InProcessClient, type ClientOptions } from './client.js';
import { Connection, type ConnectionOptions, type ConnectionSink } from './connection.js';
import { JobNotFoundError, ServerClosedError } from './errors.js';
import { ServerParts } from './internal/parts.js';
import type { Answer, QueueAdmin } from './internal/queue-admin.js';
import { partsOptions } from './server-options.js';
import type { CloseOptions, JobServerOptions } from './server-types.js';
import type { JobPolicy } from './retry.js';
import type { FunctionSettings, SettingsChanges } from './settings-types.js';
import { checkHandle, checkLimit, checkName, checkOptions, refusal } from './internal/checks.js';
import {
  CLIENT_KEYS,
  CLOSE_KEYS,
  CONNECTION_KEYS,
  JOB_FILTER_KEYS,
  OUTCOME_FILTER_KEYS,
  SERVER_KEYS,
  WORKER_KEYS,
} from './internal/option-keys.js';
import {
  checkChanges,
  controlOf,
  isControlled,
  limitsChanges,
  limitsOf,
  policyChanges,
  policyOf,
  settingsOf,
} from './internal/settings-record.js';
import type { LoggerLike, WorkerOptions } from './worker-types.js';
import { untilDeadline } from './internal/deadline.js';
import type {
  ConnectionInfo,
  NodeInfo,
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
} from './types.js';
import { InProcessWorker } from './in-process-worker.js';
import { ServerTimers } from './internal/timers.js';

export type { BurstPeak, CloseOptions, JobServerOptions } from './server-types.js';
export type { JobPolicy } from './retry.js';
export { DEFAULT_WAKE_TIMEOUT } from './server-options.js';

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

  private readonly parts: ServerParts;
  private readonly connectionsById = new Map<number, Connection>();
  private readonly workersSet = new Set<InProcessWorker>();
  private connectionSeq = 0;
  private closePromise: Promise<void> | null = null;
  /** While `close()` is under way. */
  private closing = false;
  private readonly logger: LoggerLike | undefined;
  /**
   * A shared queue's opening, after which the policies given at creation are written: a
   * policy read or set later comes after them (null on the local queue: in force at once).
   */
  private readonly policiesWritten: Promise<void> | null;

  constructor(options: JobServerOptions = {}) {
    checkOptions(options, 'server options', SERVER_KEYS);
    this.scheduler = options.scheduler ?? new ServerTimers(() => this.waiting());
    this.exceptions = options.exceptions ?? false;
    this.logger = options.logger;
    const parts = partsOptions(options, this.scheduler, this.logger);
    this.parts = new ServerParts(parts);
    if (parts.shared === null) {
      // The local queue took the `jobPolicies` up (over what its store kept, at the replay).
      // Synchronous for a synchronous store: its jobs are queued before the constructor returns.
      this.ready = this.parts.admin.open();
      this.policiesWritten = null;
    } else {
      // The policies given are the cluster's: written once the backend is open.
      this.ready = this.parts.admin.open().then(async () => {
        for (const [name, changes] of parts.initialSettings) {
          await this.parts.admin.configure(name, changes);
        }
      });
      this.ready.catch(() => undefined);
      this.policiesWritten = this.ready;
    }
  }

  // ---------------------------------------------------------------------------------
  // Each function's settings: one record (issue 30), read and changed by `settings` and
  // `configure`; the methods after them are views of parts of it.

  /**
   * The queue's settings side, once the settings given at creation are in force: on a shared
   * queue they are written after the backend opens, and a read or a change before that would
   * miss them or be overwritten by them.
   */
  private async withSettings<T>(use: (admin: QueueAdmin) => Answer<T>): Promise<T> {
    // No wait on a local queue: a change is in force before its Promise settles.
    if (this.policiesWritten !== null) await this.policiesWritten;
    return use(this.parts.admin);
  }

  /**
   * A function's settings: how often its jobs are tried and how long they wait in between,
   * what is kept of them, when they may start (pause, rate, concurrency) and how many may
   * wait (`maxQueue`), each the default where nothing was set (`configured` holds what was).
   */
  async settings(functionName: string): Promise<FunctionSettings> {
    checkName(functionName, 'function name');
    const record = await this.withSettings((admin) => admin.record(functionName));
    return settingsOf(functionName, record, this.parts.admin.defaults);
  }

  /** The settings of every function that has a setting of its own, by name. */
  async configured(): Promise<FunctionSettings[]> {
    const records = await this.withSettings((admin) => admin.records());
    return records.map((r) => settingsOf(r.functionName, r, this.parts.admin.defaults));
  }

  /**
   * Changes a function's settings: a setting given replaces the one in force, `null` puts its
   * default back, one left out stays. In force at once (a pause holds the function's jobs
   * from the next assignment on), and kept by the store (or the shared queue) across a
   * restart: resolves with the settings once it has them (a StoreError when it could not
   * keep them). Any name may be configured, a function with no worker or job yet included.
   * @throws InvalidArgumentError (code INVALID_ARGUMENT) for a bad setting or name; nothing
   *   of the changes is then applied
   */
  async configure(functionName: string, changes: SettingsChanges): Promise<FunctionSettings> {
    checkName(functionName, 'function name');
    const checked = checkChanges(changes, 'settings');
    const record = await this.withSettings((admin) => admin.configure(functionName, checked));
    return settingsOf(functionName, record, this.parts.admin.defaults);
  }

  /**
   * Sets (or with null, removes) the retry policy of a function's jobs, whoever submits them
   * (PHP and `gearman` over TCP included); a job's own policy (`submit` options) comes first.
   * An attempt fails by WORK_FAIL, WORK_EXCEPTION, a timeout or a lost worker; the job then
   * waits for its back-off under the same handle, and fails for good after `attempts`.
   * The policy is the function's settings' `attempts`, `backoff` and `keep`, replaced whole
   * (one left out is put back to its default), and stored with them.
   * @throws InvalidArgumentError for a bad policy or function name
   */
  async setJobPolicy(functionName: string, policy: JobPolicy | null): Promise<void> {
    checkName(functionName, 'function name');
    const changes = policyChanges(policy, 'policy');
    await this.withSettings((admin) => admin.configure(functionName, changes));
  }

  /** A function's policy, or null (none: one attempt, the server's retention). */
  async jobPolicy(functionName: string): Promise<JobPolicy | null> {
    return policyOf(await this.withSettings((admin) => admin.record(functionName)));
  }

  /** How a background job ended, while it is kept (see `JobPolicy.keep`); else undefined. */
  async outcome(handle: string): Promise<JobOutcome | undefined> {
    return this.parts.admin.outcome(handle);
  }

  /**
   * Kept outcomes, oldest end first: of one function or all, completed or failed or both;
   * with `limit`, only the newest that many (read from the newest end, so the newest 100 of
   * a million kept cost 100). Throws `INVALID_ARGUMENT` for a bad limit.
   */
  async outcomes(options: OutcomeFilter = {}): Promise<JobOutcome[]> {
    checkOptions(options, 'outcomes options', OUTCOME_FILTER_KEYS);
    if (options.limit !== undefined) checkLimit(options.limit);
    return this.parts.admin.outcomes(options);
  }

  /** How many outcomes are kept (of one function, of one state), without reading them. */
  async outcomeCount(options: Omit<OutcomeFilter, 'limit'> = {}): Promise<number> {
    checkOptions(options, 'outcomeCount options', OUTCOME_FILTER_KEYS);
    return this.parts.admin.outcomeCount(options);
  }

  /**
   * Runs a failed job (a dead letter) again: queued under the same handle with a fresh
   * attempt count. Resolves with the handle that runs it: another live job's when one holds
   * its unique id now (that job is the same work; the dead letter then stays kept).
   * @throws JobNotFoundError when no failed outcome is kept under it.
   */
  async retry(handle: string): Promise<string> {
    if (this.parts.closing) throw new ServerClosedError();
    const outcome = await this.parts.admin.retry(handle);
    if (outcome === undefined) {
      throw new JobNotFoundError(handle, `no failed job is kept under ${handle}`);
    }
    return outcome.handle;
  }

  /** Discards a kept outcome; resolves with whether there was one. */
  async discard(handle: string): Promise<boolean> {
    return this.parts.admin.discard(handle);
  }

  /** Discards every failed outcome of a function; resolves with how many. */
  async discardFailed(functionName: string): Promise<number> {
    return this.parts.admin.discardFailed(functionName);
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
    return this.parts.admin.schedule(id, options);
  }

  /** Removes a schedule (its jobs already submitted stay); resolves with whether it existed. */
  async unschedule(id: string): Promise<boolean> {
    await this.ready;
    return this.parts.admin.unschedule(id);
  }

  /** The schedules, by id, with their last and next ticks. */
  async schedules(): Promise<ScheduleInfo[]> {
    return this.parts.admin.schedules();
  }

  /**
   * Pauses a function: its jobs are still accepted, stored and queued (delayed ones become
   * due as ever), but none is handed to a worker until `resume`; jobs running now finish.
   * In force at once, and kept by the store across a restart: the Promise resolves when the
   * store has it (a StoreError when it could not keep it).
   */
  async pause(functionName: string): Promise<void> {
    checkName(functionName, 'function name');
    await this.withSettings((admin) => admin.configure(functionName, { paused: true }));
  }

  /** Resumes a paused function: its sleeping workers are woken for its queued jobs. */
  async resume(functionName: string): Promise<void> {
    checkName(functionName, 'function name');
    await this.withSettings((admin) => admin.configure(functionName, { paused: false }));
  }

  /** Whether a function is paused. */
  async paused(functionName: string): Promise<boolean> {
    return (await this.withSettings((admin) => admin.record(functionName)))?.paused ?? false;
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
    checkName(functionName, 'function name');
    await this.withSettings((admin) => admin.configure(functionName, limitsChanges(limits)));
  }

  /** A function's limits (nulls when it has none). */
  async functionLimits(functionName: string): Promise<Required<FunctionLimits>> {
    const record = await this.withSettings((admin) => admin.record(functionName));
    return { rate: record?.rate ?? null, concurrency: record?.concurrency ?? null };
  }

  /** The functions that are paused or limited (admin `show functions`), by name. */
  async controls(): Promise<FunctionControl[]> {
    return (await this.withSettings((admin) => admin.records()))
      .filter(isControlled)
      .map(controlOf);
  }

  /** Every job transition. Events are only built while someone subscribes. */
  get events$(): Observable<JobEvent> {
    return this.parts.ctx.events.asObservable();
  }

  get closed(): boolean {
    return this.parts.closing;
  }

  /** Opens a connection: the contract the TCP adapter and the thread pool use. */
  connect(options: ConnectionOptions = {}): Connection {
    checkOptions(options, 'connection options', CONNECTION_KEYS);
    const connection = new Connection(this.parts, ++this.connectionSeq, options, (c) =>
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

  /** GET_STATUS: whether the job is known, running, and its progress. */
  async status(handle: string): Promise<JobStatus> {
    checkHandle(handle);
    return this.parts.admin.status(handle);
  }

  /** GET_STATUS_UNIQUE; give the function name for an exact answer. */
  async statusByUnique(unique: string, functionName?: string): Promise<UniqueJobStatus> {
    return this.parts.admin.statusByUnique(unique, functionName);
  }

  /** Cancels a queued, delayed or running job; resolves false when there is no such job. */
  async cancel(handle: string): Promise<boolean> {
    checkHandle(handle);
    return this.parts.admin.cancel(handle);
  }

  /** Creates an empty function entry (admin `create function`). */
  async createFunction(functionName: string): Promise<void> {
    await this.parts.admin.createFunction(functionName);
  }

  /**
   * Removes a function (admin `drop function`).
   * @throws FunctionNotFoundError, FunctionBusyError (workers registered or jobs live)
   */
  async dropFunction(functionName: string): Promise<void> {
    await this.parts.admin.dropFunction(functionName);
  }

  /**
   * Sets a function's queue limits (admin `maxqueue`): its settings' `maxQueue`, stored with
   * them. False when the function does not exist (as gearmand answers).
   */
  async setMaxQueue(functionName: string, limits: number | Partial<QueueLimits>): Promise<boolean> {
    const changes = checkChanges({ maxQueue: limitsOf(limits) }, 'queue limits');
    if (this.parts.local.functions.get(functionName) === undefined) return false;
    await this.withSettings((admin) => admin.configure(functionName, changes));
    return true;
  }

  /** Statistics per function (admin `status`, `prioritystatus`). */
  async functions(): Promise<FunctionStatus[]> {
    return this.parts.admin.functions();
  }

  /**
   * Starts measuring every function's wait and run times (see `timings`). Off until asked,
   * since it reads the clock at each start and end; `@geartrain/dashboard` turns it on.
   */
  measureTimings(): void {
    this.parts.measureTimings();
  }

  /** Wait and run time histograms per function, since `measureTimings` (none before). */
  timings(): FunctionTimings[] {
    const rows: FunctionTimings[] = [];
    for (const fn of this.parts.functions.byName.values()) {
      if (fn.latencies !== null) rows.push(fn.latencies.snapshot(fn.name));
    }
    return rows;
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
  async jobs(filter: JobFilter = {}): Promise<JobInfo[]> {
    checkOptions(filter, 'jobs filter', JOB_FILTER_KEYS);
    if (filter.limit !== undefined) checkLimit(filter.limit);
    return this.parts.admin.jobs(filter);
  }

  /** A live job by its handle, or undefined (ended, or never known). */
  async job(handle: string): Promise<JobInfo | undefined> {
    checkHandle(handle);
    return this.parts.admin.job(handle);
  }

  /** Unique ids of live jobs, `''` for those without (admin `show unique jobs`). */
  /**
   * This server as a node of its queue: its id (new at every start), its name (`nodeName`),
   * and whether its queue is shared with other nodes.
   */
  get node(): { readonly id: string; readonly name: string; readonly shared: boolean } {
    return { ...this.parts.node, shared: this.parts.shared };
  }

  /**
   * The nodes of this server's queue: on a shared queue, every live node (its heartbeat, its
   * running jobs, its workers' functions), this one marked `self`; on the local queue, this
   * server alone.
   */
  async nodes(): Promise<NodeInfo[]> {
    return this.parts.admin.nodes();
  }

  async uniqueJobs(): Promise<string[]> {
    return (await this.parts.admin.jobs({})).map((job) => job.unique);
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
    const { ctx, local } = this.parts;
    if (this.closing || ctx.events.observed || local.schedules.size > 0) return true;
    for (const connection of this.connectionsById.values()) {
      if (connection.waiting > 0) return true;
    }
    return false;
  }

  private async shutdown(timeout: number): Promise<void> {
    const { queue, dispatcher } = this.parts;
    this.parts.beginClose();
    queue.failWaitingForeground();
    const workersStopped = Promise.all(
      [...this.workersSet].map((w) => w.close({ timeout, reason: 'serverClosed' })),
    );
    if (dispatcher.running > 0) {
      await untilDeadline(dispatcher.whenNoneRunning(), this.scheduler, timeout, () =>
        queue.abortRunning(),
      );
    }
    await workersStopped;
    // The queue first: a shared one's last answers (the ends of jobs that ran here) reach
    // the clients still connected.
    await this.parts.admin.close();
    for (const connection of [...this.connectionsById.values()]) connection.close();
    this.parts.stopTimers();
  }
}

/** Creates an in-process Gearman job server. */
export function createJobServer(options?: JobServerOptions): JobServer {
  return new JobServer(options);
}
