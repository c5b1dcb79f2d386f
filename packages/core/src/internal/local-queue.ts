import { InvalidArgumentError, QueueFullError, ServerClosedError } from '../errors.js';
import type { JobStore } from '../store.js';
import type { QueueLimits, Retention } from '../types.js';
import type { SubmitOutcome, SubmitRequest } from '../transport-types.js';
import { retriesOf, type Retries } from '../retry.js';
import { checkName, checkRunAt, checkUnique } from './checks.js';
import type { ServerContext } from './context.js';
import { FunctionTable } from './function-table.js';
import { Gates } from './gates.js';
import {
  Attachment,
  Job,
  JobDraft,
  JobState,
  PRIORITY_NAMES,
  priorityIndex,
  type FunctionEntry,
  type JobListener,
  type PriorityIndex,
  type WorkerState,
} from './job.js';
import { LiveJobs } from './live-jobs.js';
import { OutcomeKeeper } from './outcome-keeper.js';
import { toBody } from './payload.js';
import type { JobQueue, QueueHost } from './queue.js';
import { replayStored } from './replay.js';
import { Schedules } from './schedules.js';
import { StoreWrites } from './store-writes.js';
import { Endings } from './endings.js';
import { FunctionSettingsTable } from './settings.js';
import type { CheckedChanges } from './settings-record.js';

export interface LocalQueueOptions {
  readonly handlePrefix: string;
  readonly maxRetries: number;
  readonly maxUniqueLength: number;
  readonly maxQueue: QueueLimits;
  readonly store: JobStore | null;
  /** Called when the store fails to update or remove a record (the job goes on or is finished). */
  readonly onStoreError: (error: unknown, handle: string, operation: string) => void;
  /** Called when a schedule's tick could not be submitted (it is tried again). */
  readonly onTickError: (error: unknown, scheduleId: string, tick: number) => void;
  /**
   * Settings by function given at start (the `jobPolicies` option), in force before the
   * replay and merged over what the store kept (see `restoreSettings`).
   */
  readonly initialSettings: ReadonlyMap<string, CheckedChanges>;
  /**
   * Whether pauses and limits are gated here. A shared queue's local part does not: its
   * backend gates the claims (SharedAdmin).
   */
  readonly gated?: boolean;
  /** 0 ≤ r < 1, for the jitter of back-offs (Math.random unless a test gives its own). */
  readonly random: () => number;
  /** What every function keeps of its ended background jobs unless told otherwise. */
  readonly retention: Required<Retention>;
  /** Bytes of a result or an exception kept in an outcome. */
  readonly outcomeDataLimit: number;
  /** Called once a burst of jobs has drained (see BurstRelease); null: never. */
  readonly onBurstDrained: ((peak: { jobs: number; bytes: number }) => void) | null;
}

/**
 * The local queue: jobs wait in this process's memory, and background jobs are written
 * through to a `JobStore` before they are acknowledged (decision 9). Synchronous: with a
 * synchronous store (or none) every call is answered before it returns, with no Promise or
 * closure per job.
 */
export class LocalQueue implements JobQueue {
  readonly functions: FunctionTable;
  readonly gates: Gates;
  readonly kept: OutcomeKeeper;
  readonly schedules: Schedules;
  readonly live: LiveJobs;
  readonly writes: StoreWrites;
  readonly endings: Endings;
  /** Each function's settings record, and what it puts in force (settings.ts). */
  readonly settings: FunctionSettingsTable;
  /** While an asynchronous store lists its records at start (see `replay`). */
  private replaying: Promise<void> | null = null;
  private host!: QueueHost;
  /** The submission's new job, filled rather than made for each (see JobInit). */
  private readonly draft = new JobDraft();

  constructor(
    private readonly ctx: ServerContext,
    private readonly options: LocalQueueOptions,
  ) {
    this.live = new LiveJobs(
      ctx.scheduler,
      (functions) => {
        for (const fn of functions) this.host.waiting(fn);
      },
      options.onBurstDrained,
    );
    this.gates = new Gates(
      ctx,
      (name) => this.functions.get(name),
      (fn) => this.host.waiting(fn),
    );
    this.functions = new FunctionTable(
      options.handlePrefix,
      (name) => this.settings.maxQueue(name),
      (name) => this.gates.of(name),
    );
    this.writes = new StoreWrites(
      options.store,
      (job) => this.persisted(job),
      (job) => {
        // The store refused the write: its attached clients hear nothing but the error.
        if (job.state === JobState.Pending) this.live.end(job);
      },
      options.onStoreError,
    );
    this.kept = new OutcomeKeeper(
      ctx,
      options.retention,
      options.handlePrefix,
      this.writes,
      options.outcomeDataLimit,
      (job) => this.live.queuedAt(job),
    );
    this.endings = new Endings(
      ctx,
      this.live,
      this.kept,
      this.writes,
      (job) => this.retryPolicyOf(job),
      options,
    );
    this.settings = new FunctionSettingsTable(
      {
        gates: options.gated === false ? null : this.gates,
        kept: this.kept,
        functions: () => this.functions,
        writes: this.writes,
      },
      { keep: options.retention, maxQueue: options.maxQueue },
      options.initialSettings,
    );
    const events = ctx.events;
    this.schedules = new Schedules({
      scheduler: ctx.scheduler,
      submit: (request) => this.submit(null, request, undefined),
      save: (record) => this.writes.saveSchedule(record),
      remove: (id) => this.writes.removeSchedule(id),
      emit: (event) => ctx.emit(event),
      get observed() {
        return events.observed;
      },
      onTickError: options.onTickError,
      maxUniqueLength: options.maxUniqueLength,
    });
  }

  attach(host: QueueHost): void {
    this.host = host;
    this.endings.host = host;
  }

  get store(): JobStore | null {
    return this.writes.store;
  }

  /**
   * Queues again what a previous run left in the store: at once for a synchronous store.
   * Submissions made while an asynchronous store lists wait for it, so that no new job takes
   * the seq of a stored one.
   */
  replay(): Promise<void> {
    const replaying = replayStored(this, this.ctx);
    if (replaying === undefined) return Promise.resolve();
    this.replaying = replaying.finally(() => (this.replaying = null));
    this.replaying.catch(() => undefined);
    return replaying;
  }

  /** The replay is done with the jobs: submissions need not wait any more. */
  replayed(): void {
    this.replaying = null;
  }

  // ---------------------------------------------------------------------------------
  // Submitting

  submit(
    owner: WorkerState | null,
    request: SubmitRequest,
    listener: JobListener | undefined,
  ): SubmitOutcome | Promise<SubmitOutcome> {
    const ctx = this.ctx;
    if (ctx.closing) throw new ServerClosedError();
    if (this.replaying !== null) {
      return this.replaying.then(() => this.submit(owner, request, listener));
    }
    if (request.transaction !== undefined) {
      throw new InvalidArgumentError(
        'a job in a transaction needs a shared queue in a database (postgresQueue)',
      );
    }
    const name = request.functionName;
    // A name the server already knows was checked when it was first seen.
    let fn = this.functions.get(name);
    if (fn === undefined) checkName(name, 'function name');
    const unique = request.unique ?? '';
    if (unique.length > 0) checkUnique(unique, this.options.maxUniqueLength);
    const background = request.background ?? false;
    const runAt = request.runAt ?? 0;
    checkRunAt(runAt, background);
    const reducer = request.reducer ?? '';
    const retry = request.retry === undefined ? null : retriesOf(request.retry);
    const body = toBody(request.payload, background);
    // Checked before coalescing: a bad priority is refused even where it would not be used.
    const priority = priorityIndex(request.priority);
    fn ??= this.functions.entry(name);
    const attach = background || owner === null ? undefined : listener;

    // Coalescing (reference §3.2): by unique id, or by payload for the `-` unique.
    const existing = this.live.coalescedWith(fn, unique, body);
    if (existing !== undefined) {
      fn.counts.coalesced++;
      const handle = existing.handle;
      if (attach !== undefined) new Attachment(existing, attach, owner!, handle);
      if (ctx.events.observed) {
        ctx.emit({ type: 'coalesced', handle, functionName: name, unique, background });
      }
      const outcome: SubmitOutcome = { handle, coalesced: true };
      const pending = this.writes.inFlight(existing);
      return pending === undefined ? outcome : pending.then(() => outcome);
    }

    const limit =
      priority === 0 ? fn.limits.high : priority === 1 ? fn.limits.normal : fn.limits.low;
    if (limit > 0 && fn.total >= limit) throw new QueueFullError(name);

    const init = this.draft;
    init.seq = ++this.live.seq;
    init.fn = fn;
    init.unique = unique;
    init.body = body;
    init.priority = priority;
    init.background = background;
    init.runAt = runAt;
    init.reducer = reducer;
    init.retry = retry;
    const job = new Job(init);
    fn.counts.submitted++;
    // Times are taken only where they are measured or an outcome may be kept.
    this.live.add(
      job,
      ctx.timingSince >= 0 || (background && this.kept.keeps(fn) !== 0) ? ctx.stamps.now() : 0,
    );
    // A foreground submission's outcome is its attachment, which makes the handle only when
    // it is read (see Attachment).
    const outcome: SubmitOutcome =
      attach === undefined
        ? { handle: job.handle, coalesced: false }
        : new Attachment(job, attach, owner!, null);
    if (ctx.events.observed) {
      ctx.emit({
        type: 'submitted',
        handle: outcome.handle,
        functionName: name,
        unique,
        priority: PRIORITY_NAMES[priority]!,
        background,
      });
    }

    if (background && this.writes.store !== null) {
      this.live.pend(job);
      const written = this.writes.add(job);
      return written === undefined ? outcome : written.then(() => outcome);
    }
    this.activate(job);
    return outcome;
  }

  /** The store confirmed the write: the job becomes runnable (unless it ended meanwhile). */
  private persisted(job: Job): void {
    if (job.state !== JobState.Pending) {
      // Cancelled while the write was in flight.
      this.writes.remove(job);
      return;
    }
    job.stored = true;
    this.activate(job);
  }

  /** Queued (its workers woken) or delayed by its `runAt`. */
  activate(job: Job): void {
    if (this.live.place(job, this.ctx)) {
      this.host.waiting(job.fn);
    } else if (this.ctx.events.observed) {
      this.ctx.emit({ type: 'delayed', handle: job.handle, runAt: job.runAt });
    }
  }

  abandoned(job: Job): void {
    if (!job.background && job.state === JobState.Queued) this.live.end(job);
  }

  // ---------------------------------------------------------------------------------
  // Handing out

  idle(): void {
    // Every job of this queue is in it: there is nothing to claim.
  }

  startable(fn: FunctionEntry): number {
    const queued = fn.queued;
    if (fn.gate === null || queued === 0) return queued;
    return Math.min(queued, this.gates.room(fn));
  }

  take(fn: FunctionEntry, priority: PriorityIndex): Job | null {
    const queue = fn.queues[priority];
    if (queue.head === null) return null;
    const gate = fn.gate;
    let now = 0;
    if (gate !== null) {
      now = this.ctx.now();
      if (gate.room(now, fn.running) <= 0) return null;
    }
    const job = queue.shift()!;
    gate?.started(now);
    this.live.start(job);
    // The attempt is counted in the store before the worker hears of it, so that a crash
    // while it runs counts it (decision 20).
    if (job.stored) this.writes.update(job);
    return job;
  }

  stampsStart(job: Job): boolean {
    return job.background && this.kept.keeps(job.fn) !== 0;
  }

  queuedAt(job: Job): number {
    return this.live.queuedAt(job);
  }

  byHandle(handle: string): Job | undefined {
    return this.live.byHandle(handle);
  }

  // ---------------------------------------------------------------------------------
  // How attempts end (see Endings)

  passOn(): void {
    // Every client of a local job is in this process: the broadcast reached them all.
  }

  /** Read from the job's run when asked for: there is nothing to write. */
  progress(job: Job): void {
    const run = job.run!;
    if (this.ctx.events.observed) {
      this.ctx.emit({
        type: 'progress',
        handle: job.handle,
        numerator: run.numerator,
        denominator: run.denominator,
      });
    }
  }

  complete(job: Job, data: Buffer): void {
    this.endings.complete(job, data);
  }

  fail(job: Job, thrown?: unknown): void {
    this.endings.fail(job, thrown);
  }

  exception(job: Job, data: Buffer, thrown?: unknown): void {
    this.endings.exception(job, data, thrown);
  }

  timedOut(job: Job): void {
    this.endings.timedOut(job);
  }

  lost(job: Job): void {
    this.endings.lost(job);
  }

  giveBack(job: Job): void {
    this.host.release(job, Number.NaN);
    if (!job.background && job.attachments === null) {
      this.live.end(job);
      return;
    }
    // The store counted the attempt at the start: it is uncounted there too.
    if (job.stored) this.writes.update(job);
    this.live.enqueue(job, true);
    this.host.waiting(job.fn);
  }

  // ---------------------------------------------------------------------------------
  // Retries (decision 21); the policies are the functions' settings (settings.ts)

  retryPolicyOf(job: Job): Retries | null {
    return job.retry ?? this.settings.retryPolicy(job.fn.name);
  }

  /** The attempts a job whose worker was lost may have had, with no policy of its own. */
  get maxRetries(): number {
    return this.options.maxRetries;
  }

  // ---------------------------------------------------------------------------------
  // Jobs by hand: cancel, run a dead letter again

  /**
   * Cancels a job: its clients are told it failed (`CANCELLED`), a worker holding it has it
   * revoked (its AbortSignal fires; a late result is refused), and it leaves the store.
   */
  cancel(handle: string): boolean {
    const job = this.live.byHandle(handle);
    if (job === undefined || job.state === JobState.Done) return false;
    this.endings.endJob(job, 'CANCELLED', true);
    return true;
  }

  /**
   * Runs a failed job again by hand: queued under the same handle, with its payload, unique
   * id, priority and own retry policy, and a fresh attempt count. Returns the handle that
   * runs it — another live job's when one holds the unique id now (the dead letter is then
   * kept as it is) — or undefined when no failed outcome is kept under `handle`.
   */
  resubmit(handle: string): SubmitOutcome | Promise<SubmitOutcome> | undefined {
    if (this.ctx.closing) throw new ServerClosedError();
    const outcome = this.kept.get(handle);
    if (outcome === undefined || outcome.state !== 'failed') return undefined;
    const fn = this.functions.entry(outcome.functionName);
    const body = outcome.body ?? '';
    // A live job holds its unique id now: that is this job (Gearman's rule), already queued
    // or running. The dead letter stays kept; its handle is not given to a second job.
    const existing = this.live.coalescedWith(fn, outcome.unique, body);
    if (existing !== undefined) return { handle: existing.handle, coalesced: true };
    this.kept.outcomes.remove(handle);
    const job = new Job({
      seq: outcome.seq,
      fn,
      unique: outcome.unique,
      body,
      priority: priorityIndex(outcome.priority),
      background: true,
      handle,
      retry: outcome.retry,
    });
    this.live.add(job, this.ctx.stamps.now());
    if (this.ctx.events.observed) this.ctx.emit({ type: 'resubmitted', handle });
    const result: SubmitOutcome = { handle, coalesced: false };
    if (this.writes.store === null) {
      this.activate(job);
      return result;
    }
    this.live.pend(job);
    // A store that refuses the job must not lose the dead letter: it is kept again.
    let written: Promise<void> | undefined;
    try {
      written = this.writes.add(job);
    } catch (error) {
      this.kept.restore(outcome);
      throw error;
    }
    return written === undefined
      ? result
      : written.then(
          () => result,
          (error: unknown) => {
            this.kept.restore(outcome);
            throw error;
          },
        );
  }

  // ---------------------------------------------------------------------------------
  // Shutdown

  /** No new submissions from now on. */
  beginClose(): void {
    this.schedules.stop();
    this.live.stopBursts();
  }

  /** Jobs that are running now. */
  runningJobs(): Job[] {
    return this.endings.runningJobs();
  }

  /** Fails every foreground job still waiting, for shutdown; background jobs stay stored. */
  failWaitingForeground(): void {
    this.endings.failWaitingForeground();
  }

  /** Revokes the running jobs at the end of a shutdown deadline. */
  abortRunning(): void {
    this.endings.abortRunning();
  }

  stopTimers(): void {
    this.live.stop();
    this.gates.stopTimers();
    this.schedules.stop();
  }
}
