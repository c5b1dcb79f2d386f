import { Subject, type SchedulerLike } from 'rxjs';
import { InvalidArgumentError, QueueFullError, ServerClosedError, StoreError } from '../errors.js';
import type { JobRecord, JobStore, OutcomeRecord, ScheduleRecord } from '../store.js';
import type {
  AttemptFailure,
  FailReason,
  FunctionControl,
  FunctionLimits,
  FunctionStatus,
  FunctionTimings,
  JobEvent,
  JobFilter,
  JobInfo,
  JobStatus,
  JobUpdate,
  QueueLimits,
  Retention,
  UniqueJobStatus,
} from '../types.js';
import { DelayedJobs } from './delayed-jobs.js';
import { SeqIndex } from './job-index.js';
import { BurstRelease, DEFAULT_BURST } from './burst-release.js';
import { WorkerState, type FunctionEntry } from './job.js';
import {
  Job,
  JobState,
  PRIORITY_NAMES,
  RunInfo,
  priorityIndex,
  Ability,
  Attachment,
  deliver,
  type JobListener,
  type PriorityIndex,
} from './job.js';
import { payloadKey, sameBody, toBody, type Body } from './payload.js';
import { handleSeq, madeUnder } from './handles.js';
import { ABSENT, functionRows, jobRow, shown, statusByUnique, statusOf } from './queries.js';
import { smallest } from './smallest.js';
import { FunctionTable } from './function-table.js';
import { StoreWrites } from './store-writes.js';
import { checkLimit, checkName, checkRunAt, checkUnique } from './checks.js';
import { WakeDeadlines } from './wake-deadlines.js';
import { Waiters } from './waiters.js';
import { isThenable } from './thenable.js';
import { backoffDelay, retriesOf, type Retries } from '../retry.js';
import { KeptOutcome, NO_ERRORS, OutcomeDraft, recordOf } from './kept-outcome.js';
import { attemptError } from './attempt-error.js';
import { KEEP_COMPLETED, KEEP_FAILED, Outcomes } from './outcomes.js';
import { StampClock } from './stamps.js';
import { Gate, checkLimits, controlOf } from './gate.js';
import { Schedules } from './schedules.js';
import { timerDelay } from './timer-delay.js';
import { FunctionLatencies } from './latency.js';
import type { Assignment, SubmitOutcome, SubmitRequest } from '../transport-types.js';

export interface EngineOptions {
  readonly scheduler: SchedulerLike;
  /** Whether the scheduler is the real clock (not a virtual one a test advances). */
  readonly realClock: boolean;
  readonly handlePrefix: string;
  readonly maxRetries: number;
  readonly maxUniqueLength: number;
  readonly maxQueue: QueueLimits;
  readonly store: JobStore | null;
  /** Sleepers woken per job not yet promised to a woken worker; 0 wakes every sleeper. */
  readonly workerWakeup: number;
  /** How long a woken worker has to grab before every sleeper of the function is woken. */
  readonly wakeTimeout: number;
  /** Called when the store fails to update or remove a record (the job goes on or is finished). */
  readonly onStoreError: (error: unknown, handle: string, operation: string) => void;
  /** Called when a schedule's tick could not be submitted (it is tried again). */
  readonly onTickError: (error: unknown, scheduleId: string, tick: number) => void;
  /** Retry policies by function name, known before the replay. */
  readonly retries: ReadonlyMap<string, Retries>;
  /** 0 ≤ r < 1, for the jitter of back-offs (Math.random unless a test gives its own). */
  readonly random: () => number;
  /** What every function keeps of its ended background jobs unless told otherwise. */
  readonly retention: Required<Retention>;
  /** Bytes of a result or an exception kept in an outcome. */
  readonly outcomeDataLimit: number;
  /** Called once a burst of jobs has drained (see BurstRelease); null: never. */
  readonly onBurstDrained: ((peak: { jobs: number; bytes: number }) => void) | null;
}

type WithoutTime<E> = E extends unknown ? Omit<E, 'time'> : never;

/**
 * The job server's state and rules, independent of any transport. Connections
 * (`connection.ts`) call into it; the public `JobServer` wraps it.
 */
export class Engine {
  readonly functions: FunctionTable;
  readonly jobs = new SeqIndex<Job>();
  readonly events = new Subject<JobEvent>();
  readonly scheduler: SchedulerLike;
  private closingFlag = false;

  private readonly options: EngineOptions;
  private seq = 0;
  private readonly outcomes: Outcomes;
  /** Retry policies by function name (`setJobPolicy`); a job's own policy comes first. */
  private readonly retryPolicies: Map<string, Retries>;
  /** While an asynchronous store lists its records at start (see `replayStored`). */
  private replaying: Promise<void> | null = null;
  private readonly delayed: DelayedJobs;
  private readonly writes: StoreWrites;
  private readonly noneRunning = new Waiters();
  private runningCount = 0;
  /** Workers woken and not yet grabbing, oldest first (see `ensureWakes`). */
  private readonly woken: WakeDeadlines<WorkerState>;
  /** The outcome of the job ending now, reused (see OutcomeDraft). */
  private readonly draft = new OutcomeDraft();
  /** The clock of outcome times (shares a reading within a synchronous stretch). */
  private readonly stamps: StampClock;
  /** When timings were turned on (`measureTimings`), or -1: not measured. */
  private timingSince = -1;
  /** Pauses and limits by function name; a function without any has none. */
  private readonly gates = new Map<string, Gate>();
  /** Recurring jobs; they submit as a client of their own. */
  readonly schedules: Schedules;
  /** Notices the end of a burst of jobs, to give memory back; null when not asked for. */
  private readonly bursts: BurstRelease | null;

  constructor(options: EngineOptions) {
    const events = this.events;
    this.options = options;
    this.scheduler = options.scheduler;
    this.stamps = new StampClock(options.scheduler, options.realClock);
    this.retryPolicies = new Map(options.retries);
    this.outcomes = new Outcomes(options.retention, options.handlePrefix, (seq, handle) =>
      this.writes.forgetOutcome(seq, handle),
    );
    this.functions = new FunctionTable(
      options.handlePrefix,
      options.maxQueue,
      (name) => this.gates.get(name) ?? null,
    );
    this.delayed = new DelayedJobs(options.scheduler, (due) => this.releaseDue(due));
    this.writes = new StoreWrites(
      options.store,
      (job) => this.persisted(job),
      (job) => {
        if (job.state === JobState.Pending) this.discard(job);
      },
      options.onStoreError,
    );
    this.woken = new WakeDeadlines(options.scheduler, options.wakeTimeout, (late) =>
      this.unanswered(late),
    );
    this.bursts =
      options.onBurstDrained === null
        ? null
        : new BurstRelease(options.scheduler, DEFAULT_BURST, options.onBurstDrained);
    const submitter = new WorkerState(0, undefined);
    this.schedules = new Schedules({
      scheduler: options.scheduler,
      submit: (request) => this.submit(submitter, request, undefined),
      save: (record) => this.writes.saveSchedule(record),
      remove: (id) => this.writes.removeSchedule(id),
      emit: (event) => this.emit(event),
      get observed() {
        return events.observed;
      },
      onTickError: options.onTickError,
      maxUniqueLength: options.maxUniqueLength,
    });
  }

  get store(): JobStore | null {
    return this.writes.store;
  }

  /**
   * Queues again what a previous run left in the store: at once for a synchronous store.
   * Submissions made while an asynchronous store lists wait for it, so that no new job takes
   * the seq of a stored one.
   */
  replayStored(): Promise<void> {
    const listed = this.writes.list();
    const highest = this.writes.highestSeq();
    const outcomes = this.writes.listOutcomes();
    const controls = this.writes.listControls();
    const schedules = this.writes.listSchedules();
    if (
      !isThenable(listed) &&
      !isThenable(highest) &&
      !isThenable(outcomes) &&
      !isThenable(controls) &&
      !isThenable(schedules)
    ) {
      this.replay(listed, highest, outcomes, controls, schedules);
      return Promise.resolve();
    }
    const replaying = Promise.all([listed, highest, outcomes, controls, schedules]).then(
      ([records, seq, kept, held, recurring]) => this.replay(records, seq, kept, held, recurring),
      (error: unknown) => {
        throw new StoreError('the job store could not list its jobs', error);
      },
    );
    this.replaying = replaying.finally(() => (this.replaying = null));
    this.replaying.catch(() => undefined);
    return replaying;
  }

  get closing(): boolean {
    return this.closingFlag;
  }

  /** No new submissions or assignments from now on; unanswered wakes no longer matter. */
  beginClose(): void {
    this.closingFlag = true;
    this.woken.stop();
    this.schedules.stop();
    this.bursts?.stop();
  }

  now(): number {
    return this.scheduler.now();
  }

  /**
   * Publishes an event stamped with the time. Callers check `events.observed` first, so no
   * event object is built while nobody listens (the hot path stays allocation-free).
   */
  private emit(event: WithoutTime<JobEvent>): void {
    this.events.next({ ...event, time: this.now() });
    // Subscribers are application code: the time moved on while they ran.
    this.stamps.invalidate();
  }

  // ---------------------------------------------------------------------------------
  // Submitting

  submit(
    owner: WorkerState,
    request: SubmitRequest,
    listener: JobListener | undefined,
  ): SubmitOutcome | Promise<SubmitOutcome> {
    if (this.closing) throw new ServerClosedError();
    if (this.replaying !== null) {
      return this.replaying.then(() => this.submit(owner, request, listener));
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
    const priority = priorityIndex(request.priority);
    fn ??= this.functions.entry(name);
    const attach = background ? undefined : listener;

    // Coalescing (reference §3.2): by unique id, or by payload for the `-` unique.
    const existing = this.findCoalesced(fn, unique, body);
    if (existing !== undefined) {
      fn.counts.coalesced++;
      if (attach !== undefined) this.attach(existing, attach, owner);
      const handle = existing.handle;
      if (this.events.observed)
        this.emit({ type: 'coalesced', handle, functionName: name, unique, background });
      const outcome: SubmitOutcome = { handle, coalesced: true };
      const pending = this.writes.inFlight(existing);
      return pending === undefined ? outcome : pending.then(() => outcome);
    }

    const limit =
      priority === 0 ? fn.limits.high : priority === 1 ? fn.limits.normal : fn.limits.low;
    if (limit > 0 && fn.total >= limit) throw new QueueFullError(name);

    const job = new Job(
      ++this.seq,
      fn,
      unique,
      body,
      priority,
      background,
      runAt,
      reducer,
      undefined,
      retry,
    );
    fn.counts.submitted++;
    // Times are taken only where they are measured or an outcome may be kept.
    this.register(
      job,
      this.timingSince >= 0 || (background && this.keeps(fn) !== 0) ? this.stamps.now() : 0,
    );
    if (attach !== undefined) this.attach(job, attach, owner);
    const handle = job.handle;
    if (this.events.observed)
      this.emit({
        type: 'submitted',
        handle,
        functionName: name,
        unique,
        priority: PRIORITY_NAMES[priority]!,
        background,
      });
    const outcome: SubmitOutcome = { handle, coalesced: false };

    if (background && this.writes.store !== null) {
      job.state = JobState.Pending;
      const written = this.writes.add(job);
      return written === undefined ? outcome : written.then(() => outcome);
    }
    this.activate(job);
    return outcome;
  }

  /**
   * Queues again the records a previous run left in the store (reference §5.1). Each job
   * keeps its handle and its place: records come in acceptance order, so each queue keeps
   * its order, and the jobs that had been handed out (`attempts` > 0: running when that run
   * ended, or waiting again after a lost worker) go to the front, their attempts counted
   * against `maxRetries`. New handles start above `highestSeq`, so no handle is reused.
   */
  private replay(
    records: Iterable<JobRecord>,
    highestSeq: number,
    outcomes: Iterable<OutcomeRecord>,
    controls: Iterable<FunctionControl>,
    schedules: Iterable<ScheduleRecord>,
  ): void {
    if (highestSeq > this.seq) this.seq = highestSeq;
    // Pauses and limits first: a paused function's replayed jobs are not handed out.
    for (const control of controls) {
      const gate = this.gateFor(control.functionName);
      gate.paused = control.paused;
      gate.setLimits(control);
      this.settleGate(gate);
    }
    // Kept outcomes first: a job that ended is not live, and its retention applies as ever.
    // In the order they ended, which the retention trims from the front.
    const now = this.now();
    const kept = [...outcomes].sort((a, b) => a.endedAt - b.endedAt || a.seq - b.seq);
    for (const record of kept) {
      const outcome = KeptOutcome.fromRecord(record);
      this.outcomes.add(outcome, outcome.body, now, false);
    }
    const again: Job[] = [];
    for (const record of records) {
      const job = this.replayOne(record);
      if (job !== undefined && job.retries > 0) again.push(job);
    }
    // Pushed to the front newest first, so the oldest ends up at the head.
    for (let i = again.length - 1; i >= 0; i--) this.replayAgain(again[i]!);
    // Last: a missed tick's job is a new job, numbered above every stored one. The jobs are
    // in place, so submissions need not wait any more: a tick's job and its schedule's
    // write go to the store in one turn.
    this.replaying = null;
    this.schedules.replay(schedules);
  }

  private replayOne(record: JobRecord): Job | undefined {
    const fn = this.functions.entry(record.functionName);
    const body = toBody(record.payload, true);
    const seq = record.seq;
    if (seq > this.seq) this.seq = seq;
    // Two records with one seq cannot be: a store keys them by it. Kept as it is.
    if (this.jobs.get(seq) !== undefined) return undefined;
    if (this.findCoalesced(fn, record.unique, body) !== undefined) {
      // A duplicate record (same function and unique): the live job covers it.
      this.writes.remove(record);
      return undefined;
    }
    // A record whose id does not end with its seq (not written by a geartrain server) is
    // given a handle of this run, so that looking its handle up finds it.
    const handle = record.id.endsWith(`:${seq}`) ? record.id : undefined;
    const job = new Job(
      seq,
      fn,
      record.unique,
      body,
      priorityIndex(record.priority),
      true,
      record.runAt,
      record.reducer,
      handle,
      record.retry ?? null,
    );
    job.retries = record.attempts;
    // The record does not keep when it was submitted: its outcome says the restart.
    this.register(job, this.stamps.now());
    job.stored = true;
    if (job.retries === 0) this.activate(job);
    return job;
  }

  /** A replayed job that had been handed out: failed past `maxRetries`, else first in line. */
  private replayAgain(job: Job): void {
    const policy = this.retryPolicyOf(job);
    const limit = policy === null ? this.options.maxRetries : policy.attempts - 1;
    if (job.retries > limit) {
      job.state = JobState.Pending; // in no queue yet: nothing for finish() to unlink
      this.endJob(job, 'RETRIES_EXHAUSTED', false, 'WORKER_LOST');
      return;
    }
    if (job.runAt !== 0 && job.runAt > this.now()) {
      this.activate(job);
      return;
    }
    job.state = JobState.Queued;
    job.fn.queues[job.priorityIndex].pushFront(job);
    if (this.events.observed) {
      this.emit({ type: 'retried', handle: job.handle, attempt: job.retries + 1 });
    }
    this.ensureWakes(job.fn);
  }

  private findCoalesced(fn: FunctionEntry, unique: string, body: string | Buffer): Job | undefined {
    if (unique === '') return undefined;
    if (unique === '-') {
      const job = fn.byPayload.get(payloadKey(body));
      return job !== undefined && sameBody(job.body, body) ? job : undefined;
    }
    return fn.byUnique.get(unique);
  }

  /** `queuedAt`: when it was submitted (ms on the scheduler's clock), or 0 if not measured. */
  private register(job: Job, queuedAt: number): void {
    const fn = job.fn;
    this.jobs.set(job, queuedAt);
    this.bursts?.added(job.body.length);
    fn.total++;
    if (job.unique === '-') fn.byPayload.set(payloadKey(job.body), job);
    else if (job.unique !== '') fn.byUnique.set(job.unique, job);
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

  /** Drops a job whose write failed: its attached clients hear nothing but the error. */
  private discard(job: Job): void {
    job.state = JobState.Done;
    this.unregister(job);
    job.attachments = null;
  }

  private activate(job: Job): void {
    if (job.runAt !== 0 && job.runAt > this.now()) {
      job.state = JobState.Delayed;
      job.fn.delayed[job.priorityIndex]++;
      this.delayed.add(job);
      if (this.events.observed) {
        this.emit({ type: 'delayed', handle: job.handle, runAt: job.runAt });
      }
      return;
    }
    job.state = JobState.Queued;
    job.fn.queues[job.priorityIndex].pushBack(job);
    this.ensureWakes(job.fn);
  }

  /** Delayed jobs whose time has come join their queues. */
  private releaseDue(due: Job[]): void {
    const functions = new Set<FunctionEntry>();
    for (const job of due) {
      job.fn.delayed[job.priorityIndex]--;
      job.state = JobState.Queued;
      job.fn.queues[job.priorityIndex].pushBack(job);
      functions.add(job.fn);
    }
    for (const fn of functions) this.ensureWakes(fn);
  }

  // ---------------------------------------------------------------------------------
  // Listeners

  private attach(job: Job, listener: JobListener, owner: WorkerState): void {
    new Attachment(job, listener, owner);
  }

  /**
   * Removes one listener (an aborted submission) or all of a connection's listeners of a job.
   * A foreground job nobody waits for any more is dropped if it has not started; a running
   * one finishes and its result goes nowhere. Background jobs always stay.
   */
  detach(job: Job, owner: WorkerState, listener?: JobListener): void {
    const left = Attachment.removeFrom(job, owner, listener);
    if (!left && !job.background && job.state === JobState.Queued) {
      job.fn.queues[job.priorityIndex].remove(job);
      job.state = JobState.Done;
      this.unregister(job);
    }
  }

  private broadcast(job: Job, update: JobUpdate, knownHandle?: string): void {
    let a = job.attachments;
    if (a === null) return;
    const handle = knownHandle ?? job.handle;
    for (; a !== null; a = a.nextOfJob) deliver(a.listener, handle, update);
  }

  // ---------------------------------------------------------------------------------
  // Workers

  canDo(worker: WorkerState, name: string, timeout: number, capacity: number): void {
    checkName(name, 'function name');
    const existing = worker.abilities.get(name);
    if (existing !== undefined) {
      // A repeated CAN_DO updates the registration instead of duplicating it.
      existing.timeout = timeout;
      existing.capacity = capacity;
      return;
    }
    const fn = this.functions.entry(name);
    const ability = new Ability(fn, worker, timeout, capacity);
    worker.abilities.set(name, ability);
    worker.order.push(ability);
    fn.workers.add(worker);
    if (worker.sleeping) {
      fn.sleepers.add(ability);
      this.ensureWakes(fn);
    }
  }

  /** CANT_DO: unregisters, and jobs of that function the connection holds go back (§2). */
  cantDo(worker: WorkerState, name: string): void {
    const ability = worker.abilities.get(name);
    if (ability === undefined) return;
    const fn = ability.fn;
    worker.abilities.delete(name);
    worker.order = worker.order.filter((a) => a !== ability);
    if (worker.cursor >= worker.order.length) worker.cursor = 0;
    fn.workers.delete(worker);
    fn.sleepers.remove(ability);
    for (const job of worker.heldJobs()) if (job.fn === fn) this.requeue(job);
    if (worker.wokenFor === fn) this.settleWake(worker);
  }

  resetAbilities(worker: WorkerState): void {
    for (const name of [...worker.abilities.keys()]) this.cantDo(worker, name);
  }

  /**
   * GRAB_JOB: the next job for this connection. Priority is global over its functions (HIGH
   * of any function before NORMAL of any), and functions take turns within a priority so
   * that none starves another (reference §3.3, the upstream-2.0 rule).
   */
  grab(worker: WorkerState): Assignment | undefined {
    if (worker.sleeping) this.unsleep(worker);
    const woken = this.clearWake(worker);
    const assignment = this.closing ? undefined : this.take(worker);
    // The wake is used up. If the worker took another function's job (or none), the job it
    // was woken for still needs a worker.
    if (woken !== null) this.ensureWakes(woken);
    return assignment;
  }

  private take(worker: WorkerState): Assignment | undefined {
    const order = worker.order;
    const n = order.length;
    for (let priority = 0; priority < 3; priority++) {
      for (let k = 0; k < n; k++) {
        const index = (worker.cursor + k) % n;
        const ability = order[index]!;
        if (ability.active >= ability.capacity) continue;
        const fn = ability.fn;
        const gate = fn.gate;
        let now = 0;
        if (gate !== null) {
          now = this.now();
          if (gate.room(now, fn.running) <= 0) continue;
        }
        const job = fn.queues[priority as PriorityIndex].shift();
        if (job === null) continue;
        worker.cursor = (index + 1) % n;
        gate?.started(now);
        return this.assign(job, worker, ability);
      }
    }
    return undefined;
  }

  private assign(job: Job, worker: WorkerState, ability: Ability): Assignment {
    job.state = JobState.Running;
    const timing = this.timingSince >= 0;
    const startedAt =
      timing || (job.background && this.keeps(job.fn) !== 0) ? this.stamps.now() : 0;
    const run = new RunInfo(job, worker, ability, startedAt);
    // A job queued before timings were turned on has no time to wait from; nor has a later
    // attempt queued again at once (a lost worker, a retry without back-off): its wait
    // began at the last attempt's end, which is not kept (a field on every job would be).
    const queuedAt = timing ? this.jobs.time(job.seq) : 0;
    if (timing && queuedAt >= this.timingSince && (job.retries === 0 || job.runAt > queuedAt)) {
      const from = job.runAt > queuedAt ? job.runAt : queuedAt;
      (job.fn.latencies ??= new FunctionLatencies()).wait.observe(startedAt - from);
    }
    job.run = run;
    ability.active++;
    job.fn.running++;
    this.runningCount++;
    // The attempt is counted in the store before the worker hears of it, so that a crash
    // while it runs counts it (decision 20).
    if (job.stored) this.writes.update(job);
    if (ability.timeout > 0) {
      run.timer = this.scheduler.schedule(() => {
        if (job.run !== run) return;
        if (!this.retryLater(job, 'TIMEOUT')) this.endJob(job, 'TIMEOUT', true, 'TIMEOUT');
      }, ability.timeout);
    }
    if (this.events.observed) {
      this.emit({
        type: 'started',
        handle: run.handle,
        functionName: job.fn.name,
        attempt: run.attempt,
        connection: worker.id,
      });
    }
    return run;
  }

  /**
   * PRE_SLEEP: with work available the connection is woken at once; otherwise it sleeps
   * until a job arrives for one of its functions that it has room for (reference §3.4).
   */
  preSleep(worker: WorkerState): void {
    // A PRE_SLEEP answers an earlier NOOP as a grab does: that wake is used up.
    this.settleWake(worker);
    let ready: FunctionEntry | undefined;
    for (const ability of worker.order) {
      const fn = ability.fn;
      if (ability.active < ability.capacity && fn.queued > 0) {
        // A paused or limited function's jobs are not ready: the worker sleeps until the
        // gate opens (resume, a running job ending, the rate's window moving on).
        if (fn.gate !== null && this.gateRoom(fn) <= 0) continue;
        ready = fn;
        break;
      }
    }
    if (ready !== undefined) {
      this.wakeOne(worker, ready);
      return;
    }
    worker.sleeping = true;
    for (const ability of worker.order) {
      if (ability.active < ability.capacity) ability.fn.sleepers.add(ability);
    }
  }

  private unsleep(worker: WorkerState): void {
    worker.sleeping = false;
    for (const ability of worker.order) ability.fn.sleepers.remove(ability);
  }

  /**
   * The wake rule (decision 18). A function's sleepers are woken, oldest asleep first, one
   * per queued job not yet promised to a woken worker (`workerWakeup` per job; 0 wakes them
   * all, gearmand's default). A woken worker that has not grabbed within `wakeTimeout` ms
   * while its function still has queued jobs makes the server wake every sleeper of that
   * function: a dead, hung or busy worker delays a job by at most that long, and a crowd is
   * woken only then, not for every job.
   */
  ensureWakes(fn: FunctionEntry, everyone = this.options.workerWakeup === 0): void {
    // Nobody asleep (the common case while workers are busy): nothing to count.
    if (fn.sleepers.head === null) return;
    const perJob = this.options.workerWakeup;
    // Only as many as may start now: a gated function's other jobs wait for its gate.
    let startable = fn.queued;
    if (fn.gate !== null && startable > 0) startable = Math.min(startable, this.gateRoom(fn));
    while (
      fn.sleepers.head !== null &&
      (everyone ? startable > 0 : startable * perJob > fn.wakesPending)
    ) {
      const worker = fn.sleepers.head.worker;
      this.unsleep(worker);
      this.wakeOne(worker, fn);
    }
  }

  /**
   * Sends one wake (NOOP) and starts its clock. The worker has no outstanding wake: a
   * sleeper has none (PRE_SLEEP settles it), and `preSleep` settles it before waking.
   */
  private wakeOne(worker: WorkerState, fn: FunctionEntry): void {
    worker.wokenFor = fn;
    fn.wakesPending++;
    this.woken.push(worker);
    worker.wake();
  }

  /** Ends a connection's outstanding wake, if any; returns the function it was for. */
  private clearWake(worker: WorkerState): FunctionEntry | null {
    const fn = worker.wokenFor;
    if (fn === null) return null;
    worker.wokenFor = null;
    fn.wakesPending--;
    this.woken.remove(worker);
    return fn;
  }

  /** A woken connection left or is woken again: its earlier wake no longer counts. */
  private settleWake(worker: WorkerState): void {
    const fn = this.clearWake(worker);
    if (fn !== null) this.ensureWakes(fn);
  }

  /** Wakes that went unanswered: every sleeper of a function that still has jobs wakes. */
  private unanswered(late: WorkerState[]): void {
    const stalled = new Set<FunctionEntry>();
    for (const worker of late) {
      const fn = this.clearWake(worker)!;
      if (fn.queued > 0) stalled.add(fn);
    }
    for (const fn of stalled) this.ensureWakes(fn, true);
  }

  // ---------------------------------------------------------------------------------
  // Work results

  /** The job this connection holds under `handle`, or undefined. */
  held(worker: WorkerState, handle: string): Job | undefined {
    const job = this.jobByHandle(handle);
    return job !== undefined && job.run?.holder === worker ? job : undefined;
  }

  workStatus(job: Job, numerator: number, denominator: number): void {
    const run = job.run!;
    run.numerator = numerator;
    run.denominator = denominator;
    this.broadcast(job, { type: 'status', numerator, denominator });
    if (this.events.observed) {
      this.emit({ type: 'progress', handle: job.handle, numerator, denominator });
    }
  }

  workData(job: Job, type: 'data' | 'warning', data: Buffer): void {
    this.broadcast(job, { type, data });
  }

  workComplete(job: Job, data: Buffer, handle?: string): void {
    let endedAt = Number.NaN;
    if (job.background && (this.keeps(job.fn) & KEEP_COMPLETED) !== 0) {
      endedAt = this.keepOutcome(job, 'completed', null, data);
    }
    job.fn.counts.completed++;
    this.finish(job, endedAt);
    this.broadcast(job, { type: 'complete', data }, handle);
    if (this.events.observed) this.emit({ type: 'completed', handle: job.handle });
  }

  /** `thrown`: the error an in-process handler threw (a WorkFail), for its kept outcome. */
  workFail(job: Job, thrown?: unknown): void {
    if (!this.retryLater(job, 'WORK_FAIL', null, thrown)) {
      this.endJob(job, 'WORK_FAIL', false, 'WORK_FAIL', thrown);
    }
  }

  /** `thrown`: the error an in-process handler threw, for its kept outcome. */
  workException(job: Job, data: Buffer, thrown?: unknown): void {
    if (this.retryLater(job, 'EXCEPTION', data, thrown)) return;
    let endedAt = Number.NaN;
    if (job.background && (this.keeps(job.fn) & KEEP_FAILED) !== 0) {
      this.noteFailure(job, 'EXCEPTION', data, thrown);
      endedAt = this.keepOutcome(job, 'failed', 'EXCEPTION', job.body);
    }
    job.fn.counts.failed++;
    this.finish(job, endedAt);
    this.broadcast(job, { type: 'exception', data });
    if (this.events.observed) {
      this.emit({ type: 'failed', handle: job.handle, reason: 'EXCEPTION' });
    }
  }

  /** Ends a job with a failure its clients are told about; the holder, if any, is told too. */
  private endJob(
    job: Job,
    reason: FailReason,
    revoke: boolean,
    failure?: AttemptFailure,
    thrown?: unknown,
  ): void {
    const holder = job.run?.holder;
    const handle = job.handle;
    // A background job that failed (not one cancelled, nor one the server stopped) is kept.
    let endedAt = Number.NaN;
    if (failure !== undefined && job.background && (this.keeps(job.fn) & KEEP_FAILED) !== 0) {
      this.noteFailure(job, failure, null, thrown);
      endedAt = this.keepOutcome(job, 'failed', reason, job.body);
    }
    if (reason === 'CANCELLED') job.fn.counts.cancelled++;
    else job.fn.counts.failed++;
    this.finish(job, endedAt);
    if (revoke && holder !== undefined) holder.revoke(handle, reason);
    this.broadcast(job, { type: 'fail', reason });
    if (this.events.observed)
      this.emit(
        reason === 'CANCELLED' ? { type: 'cancelled', handle } : { type: 'failed', handle, reason },
      );
  }

  /**
   * Removes a finished job from every table (before its clients hear of it). `endedAt`: the
   * end of its run when its outcome was just kept with it (NaN: not read yet).
   */
  private finish(job: Job, endedAt = Number.NaN): void {
    const state = job.state;
    if (state === JobState.Queued) job.fn.queues[job.priorityIndex].remove(job);
    if (state === JobState.Delayed) job.fn.delayed[job.priorityIndex]--;
    if (state === JobState.Running) this.release(job, endedAt);
    job.state = JobState.Done;
    this.unregister(job);
    if (job.stored) this.writes.remove(job);
  }

  /**
   * Takes a running job back from its holder. `endedAt`: when the run ended, if read already
   * (its kept outcome's end, read in the same call), else NaN.
   */
  private release(job: Job, endedAt = Number.NaN): void {
    const run = job.run!;
    // Every end of an attempt comes here, so run times are measured here only. Read fresh
    // (unless just read for the outcome): the handler may have run since the stretch's
    // reading (stamps.ts).
    if (this.timingSince >= 0 && run.startedAt >= this.timingSince) {
      const end = endedAt === endedAt ? endedAt : this.stamps.read();
      (job.fn.latencies ??= new FunctionLatencies()).run.observe(end - run.startedAt);
    }
    run.timer?.unsubscribe();
    run.ability.active--;
    job.fn.running--;
    if (--this.runningCount === 0) this.noneRunning.release();
    const holder = run.holder;
    run.unlink();
    job.run = null;
    // The holder has room again for this function.
    const ability = run.ability;
    if (
      holder.sleeping &&
      ability.active < ability.capacity &&
      holder.abilities.get(job.fn.name) === ability
    ) {
      job.fn.sleepers.add(ability);
    }
    // Under a concurrency limit, the job that ended lets another start.
    if (job.fn.gate !== null && job.fn.queued > 0) this.ensureWakes(job.fn);
  }

  private unregister(job: Job): void {
    const fn = job.fn;
    for (let a = job.attachments; a !== null; a = a.nextOfJob) a.unlinkOwner();
    this.jobs.delete(job);
    this.bursts?.removed(job.body.length);
    fn.total--;
    if (job.unique === '-') {
      const key = payloadKey(job.body);
      if (fn.byPayload.get(key) === job) fn.byPayload.delete(key);
    } else if (job.unique !== '' && fn.byUnique.get(job.unique) === job) {
      fn.byUnique.delete(job.unique);
    }
  }

  /**
   * A running job lost its worker: back to the front of its queue, or failed once it has
   * been retried `maxRetries` times. While the server closes, a foreground job fails with
   * `SHUTDOWN` instead and a background job stays queued (and stored) for the next start.
   */
  requeue(job: Job): void {
    if (this.closing && !job.background) {
      // Nobody will run it any more: its clients are told now.
      this.endJob(job, 'SHUTDOWN', false);
      return;
    }
    if (!job.background && job.attachments === null) {
      // Its clients are gone: nobody wants it run again.
      this.release(job);
      job.state = JobState.Done;
      this.unregister(job);
      return;
    }
    if (!this.closing && this.retryPolicyOf(job) !== null) {
      // A lost worker is a failed attempt like any other: the policy says what comes next.
      if (!this.retryLater(job, 'WORKER_LOST')) {
        this.endJob(job, 'RETRIES_EXHAUSTED', false, 'WORKER_LOST');
      }
      return;
    }
    job.retries++;
    if (job.retries > this.options.maxRetries) {
      this.endJob(job, 'RETRIES_EXHAUSTED', false, 'WORKER_LOST');
      return;
    }
    this.release(job);
    job.state = JobState.Queued;
    job.fn.counts.requeued++;
    job.fn.queues[job.priorityIndex].pushFront(job);
    if (this.events.observed) {
      this.emit({ type: 'retried', handle: job.handle, attempt: job.retries + 1 });
    }
    this.ensureWakes(job.fn);
  }

  // ---------------------------------------------------------------------------------
  // Kept outcomes and dead letters (decision 21)

  /** Notes the running attempt's failure on the job, for its outcome. */
  private noteFailure(
    job: Job,
    reason: AttemptFailure,
    data: Buffer | null,
    thrown: unknown = undefined,
  ): void {
    const limit = this.options.outcomeDataLimit;
    job.failed(attemptError(job.retries + 1, reason, data, thrown, this.now(), limit));
  }

  /**
   * Keeps how a background job ended (before `finish`, while its run is known): a result
   * capped to `outcomeDataLimit`, or a failed job's whole payload (to run it again).
   * Returns the end it stamped, so that the run's time is measured to the same reading.
   */
  private keepOutcome(
    job: Job,
    state: 'completed' | 'failed',
    reason: FailReason | null,
    data: Body,
  ): number {
    const limit = this.options.outcomeDataLimit;
    const truncated = state === 'completed' && data.length > limit;
    let body = truncated && typeof data !== 'string' ? data.subarray(0, limit) : data;
    // The outcomes copy what they keep of a Buffer; a record for the store must own its
    // bytes as well (the result may be a view of a socket read).
    if (job.stored && typeof body !== 'string') body = toBody(body, false);
    // The end of a run is read fresh, so that a synchronous handler's run is measured.
    const now = this.stamps.read();
    const o = this.draft;
    o.seq = job.seq;
    // A handle the outcomes make again from the seq is not made here either, unless the
    // store is to keep it (OutcomeFields.handle).
    o.handle = job.madeHandle && !job.stored ? '' : job.handle;
    o.functionName = job.fn.name;
    o.unique = job.unique;
    o.state = state;
    o.bits = KeptOutcome.bitsOf(job.priorityIndex, truncated, job.stored, job.madeHandle);
    o.reason = reason;
    o.attempts = job.retries + (job.run !== null ? 1 : 0);
    o.errors = job.failures ?? NO_ERRORS;
    o.queuedAt = this.jobs.time(job.seq);
    o.startedAt = job.run?.startedAt ?? now;
    o.endedAt = now;
    o.retry = job.retry;
    // Kept by the store in the commit that removes the job, when it keeps outcomes.
    if (this.outcomes.add(o, body, now) && job.stored) {
      this.writes.keepOutcome(recordOf(o, body));
    }
    return now;
  }

  outcome(handle: string): KeptOutcome | undefined {
    return this.outcomes.get(handle, this.now());
  }

  keptOutcomes(
    functionName?: string,
    state?: 'completed' | 'failed',
    limit = Infinity,
  ): KeptOutcome[] {
    checkLimit(limit);
    return this.outcomes.list(this.now(), functionName, state, limit);
  }

  keptOutcomeCount(functionName?: string, state?: 'completed' | 'failed'): number {
    return this.outcomes.count(this.now(), functionName, state);
  }

  setRetention(functionName: string, retention: Retention | null): void {
    checkName(functionName, 'function name');
    this.outcomes.setRetention(functionName, retention);
    const fn = this.functions.get(functionName);
    if (fn !== undefined) fn.keeps = -1;
  }

  /** Which outcomes of a function are kept (KEEP_ bits), cached on its entry per policy. */
  private keeps(fn: FunctionEntry): number {
    const keeps = fn.keeps;
    return keeps >= 0 ? keeps : (fn.keeps = this.outcomes.keeps(fn.name));
  }

  retention(functionName: string): Retention | null {
    return this.outcomes.retentionOf(functionName);
  }

  /**
   * Runs a failed job again by hand: queued under the same handle, with its payload, unique
   * id, priority and own retry policy, and a fresh attempt count. Returns the handle that
   * runs it — another live job's when one holds the unique id now (the dead letter is then
   * kept as it is) — or undefined when no failed outcome is kept under `handle`.
   */
  resubmit(handle: string): SubmitOutcome | Promise<SubmitOutcome> | undefined {
    if (this.closing) throw new ServerClosedError();
    const outcome = this.outcomes.get(handle, this.now());
    if (outcome === undefined || outcome.state !== 'failed') return undefined;
    const fn = this.functions.entry(outcome.functionName);
    const body = outcome.body ?? '';
    // A live job holds its unique id now: that is this job (Gearman's rule), already queued
    // or running. The dead letter stays kept; its handle is not given to a second job.
    const existing = this.findCoalesced(fn, outcome.unique, body);
    if (existing !== undefined) return { handle: existing.handle, coalesced: true };
    this.outcomes.remove(handle);
    const job = new Job(
      outcome.seq,
      fn,
      outcome.unique,
      body,
      priorityIndex(outcome.priority),
      true,
      0,
      '',
      handle,
      outcome.retry,
    );
    this.register(job, this.stamps.now());
    if (this.events.observed) this.emit({ type: 'resubmitted', handle });
    const result: SubmitOutcome = { handle, coalesced: false };
    if (this.writes.store !== null) {
      job.state = JobState.Pending;
      // A store that refuses the job must not lose the dead letter: it is kept again.
      const keepAgain = () => {
        this.outcomes.add(outcome, outcome.body, this.now(), false);
        if (outcome.stored) this.writes.keepOutcome(outcome.record());
      };
      let written: Promise<void> | undefined;
      try {
        written = this.writes.add(job);
      } catch (error) {
        keepAgain();
        throw error;
      }
      return written === undefined
        ? result
        : written.then(
            () => result,
            (error: unknown) => {
              keepAgain();
              throw error;
            },
          );
    }
    this.activate(job);
    return result;
  }

  /** Forgets kept outcomes: one by handle, or every failed one of a function. */
  discardOutcome(handle: string): boolean {
    const removed = this.outcomes.remove(handle) !== undefined;
    if (removed && this.events.observed) this.emit({ type: 'discarded', handle });
    return removed;
  }

  discardFailed(functionName: string): number {
    let count = 0;
    for (const outcome of this.outcomes.list(this.now(), functionName, 'failed')) {
      if (this.discardOutcome(outcome.handle)) count++;
    }
    return count;
  }

  // ---------------------------------------------------------------------------------
  // Retries (decision 21)

  setRetryPolicy(functionName: string, policy: Retries | null): void {
    checkName(functionName, 'function name');
    if (policy === null) this.retryPolicies.delete(functionName);
    else this.retryPolicies.set(functionName, policy);
  }

  retryPolicy(functionName: string): Retries | null {
    return this.retryPolicies.get(functionName) ?? null;
  }

  private retryPolicyOf(job: Job): Retries | null {
    return job.retry ?? this.retryPolicies.get(job.fn.name) ?? null;
  }

  /**
   * A running attempt failed. With a retry policy that allows another, the job waits for it
   * (delayed by the back-off, or first in its queue when there is none), keeping its handle,
   * unique id and clients, who hear nothing of the failed attempt; the holder of a timed-out
   * attempt has it revoked. Returns false when the failure is the job's end.
   */
  private retryLater(
    job: Job,
    reason: AttemptFailure,
    data: Buffer | null = null,
    thrown: unknown = undefined,
  ): boolean {
    const policy = this.retryPolicyOf(job);
    const failed = job.retries + 1;
    // While the server closes too: the job waits (stored) for its next attempt after a start.
    if (policy === null || failed >= policy.attempts) return false;
    if (job.background) this.noteFailure(job, reason, data, thrown);
    const holder = job.run!.holder;
    const handle = job.handle;
    this.release(job);
    if (reason === 'TIMEOUT') holder.revoke(handle, 'TIMEOUT');
    job.retries = failed;
    job.fn.counts.retried++;
    const delay = backoffDelay(policy.backoff, failed, this.options.random);
    if (delay > 0) {
      job.runAt = this.now() + delay;
      job.state = JobState.Delayed;
      job.fn.delayed[job.priorityIndex]++;
      this.delayed.add(job);
    } else {
      job.state = JobState.Queued;
      job.fn.queues[job.priorityIndex].pushFront(job);
    }
    // The attempt is counted, and the time of the next one kept, for a restart.
    if (job.stored) this.writes.update(job);
    if (this.events.observed) {
      this.emit({ type: 'retrying', handle, attempt: failed, reason, delay });
    }
    if (delay === 0) this.ensureWakes(job.fn);
    return true;
  }

  /** A connection went away: its jobs go back, its listeners and registrations are dropped. */
  disconnect(worker: WorkerState): void {
    for (const job of worker.heldJobs()) this.requeue(job);
    this.unsleep(worker);
    this.settleWake(worker);
    for (const ability of worker.order) ability.fn.workers.delete(worker);
    worker.abilities.clear();
    worker.order = [];
    const jobs: Job[] = [];
    for (let a = worker.attachedHead; a !== null; a = a.nextOfOwner) jobs.push(a.job);
    for (const job of jobs) this.detach(job, worker);
  }

  // ---------------------------------------------------------------------------------
  // Pauses and limits (decision 23)

  /**
   * Pauses or resumes a function: while paused its jobs are accepted, stored and queued,
   * but none is handed out; those running finish. In force at once; the Promise (if any)
   * settles when the store has it.
   */
  setPaused(functionName: string, paused: boolean): Promise<void> | undefined {
    checkName(functionName, 'function name');
    const gate = this.gateFor(functionName);
    const changed = gate.paused !== paused;
    gate.paused = paused;
    this.settleGate(gate);
    if (changed && this.events.observed) {
      this.emit({ type: paused ? 'paused' : 'resumed', functionName });
    }
    return this.writes.saveControl(controlOf(gate));
  }

  /** Sets a function's rate and concurrency limits (null: none). */
  setLimits(functionName: string, limits: FunctionLimits | null): Promise<void> | undefined {
    checkName(functionName, 'function name');
    const checked = checkLimits(limits ?? {});
    const gate = this.gateFor(functionName);
    gate.setLimits(checked);
    this.settleGate(gate);
    return this.writes.saveControl(controlOf(gate));
  }

  /** The functions that are paused or limited, by name. */
  controls(): FunctionControl[] {
    return [...this.gates.values()]
      .map(controlOf)
      .sort((a, b) => (a.functionName < b.functionName ? -1 : 1));
  }

  control(functionName: string): FunctionControl {
    const gate = this.gates.get(functionName);
    return gate === undefined
      ? { functionName, paused: false, rate: null, concurrency: null }
      : controlOf(gate);
  }

  private gateFor(name: string): Gate {
    let gate = this.gates.get(name);
    if (gate === undefined) {
      gate = new Gate(name);
      this.gates.set(name, gate);
      const fn = this.functions.get(name);
      if (fn !== undefined) fn.gate = gate;
    }
    return gate;
  }

  /** After a gate changed: dropped when it holds nothing back; its workers woken if it let go. */
  private settleGate(gate: Gate): void {
    const fn = this.functions.get(gate.functionName);
    if (gate.open) {
      gate.stopTimer();
      this.gates.delete(gate.functionName);
      if (fn !== undefined) fn.gate = null;
    }
    if (fn !== undefined && !this.closing) this.ensureWakes(fn);
  }

  /**
   * How many of a gated function's jobs may start now. When its rate holds them back, one
   * timer (per function, not per job) wakes its sleepers when the window lets the next one
   * start.
   */
  private gateRoom(fn: FunctionEntry): number {
    const gate = fn.gate!;
    const now = this.now();
    const room = gate.room(now, fn.running);
    if (room > 0) return room;
    const at = gate.rateOpensAt(now, fn.running);
    if (at !== undefined && at < gate.timerAt && !this.closing) {
      gate.stopTimer();
      gate.timerAt = at;
      gate.timer = this.scheduler.schedule(
        () => {
          gate.timer = null;
          gate.timerAt = Infinity;
          const entry = this.functions.get(gate.functionName);
          if (entry !== undefined && entry.gate === gate) this.ensureWakes(entry);
        },
        timerDelay(at, now),
      );
      if (this.events.observed) {
        this.emit({ type: 'limited', functionName: fn.name, until: at });
      }
    }
    return 0;
  }

  // ---------------------------------------------------------------------------------
  // Queries and admin

  jobByHandle(handle: string): Job | undefined {
    const seq = handleSeq(handle);
    if (seq === undefined) return undefined;
    const job = this.jobs.get(seq);
    if (job === undefined) return undefined;
    if (!job.madeHandle) return job.handle === handle ? job : undefined;
    // Compared without making the job's handle string.
    return madeUnder(handle, job.fn.handlePrefix) ? job : undefined;
  }

  status(handle: string): JobStatus {
    const job = this.jobByHandle(handle);
    return job === undefined ? ABSENT : statusOf(job);
  }

  statusByUnique(unique: string, functionName?: string): UniqueJobStatus {
    return statusByUnique(this.functions.byName, unique, functionName);
  }

  /**
   * Cancels a job: its clients are told it failed (`CANCELLED`), a worker holding it has it
   * revoked (its AbortSignal fires; a late result is refused), and it leaves the store.
   */
  cancel(handle: string): boolean {
    const job = this.jobByHandle(handle);
    if (job === undefined || job.state === JobState.Done) return false;
    this.endJob(job, 'CANCELLED', true);
    return true;
  }

  functionStatus(): FunctionStatus[] {
    return functionRows(this.functions.byName.values());
  }

  /**
   * Turns on the wait and run times (idempotent): from now on, every start and every end of
   * an attempt is measured (three clock readings per job, most of them shared; decision 25).
   */
  measureTimings(): void {
    if (this.timingSince < 0) this.timingSince = this.stamps.read();
  }

  timings(): FunctionTimings[] {
    const rows: FunctionTimings[] = [];
    for (const fn of this.functions.byName.values()) {
      if (fn.latencies !== null) rows.push(fn.latencies.snapshot(fn.name));
    }
    return rows;
  }

  /**
   * Live jobs. With a state, only the jobs of that state are visited (the running ones
   * through their holders, the delayed ones through their heap, the queued ones from the
   * front of their queues), so a page showing the first hundred of each stays cheap with a
   * million queued.
   */
  jobInfo(filter: JobFilter = {}): JobInfo[] {
    const { state, functionName } = filter;
    const limit = filter.limit ?? Infinity;
    checkLimit(limit);
    const fn = functionName === undefined ? undefined : this.functions.get(functionName);
    if (functionName !== undefined && fn === undefined) return [];
    const fns = fn === undefined ? [...this.functions.byName.values()] : [fn];
    switch (state) {
      case undefined: {
        const rows: JobInfo[] = [];
        for (const job of this.jobs.values()) {
          if (rows.length >= limit) break;
          if (shown(job) && (fn === undefined || job.fn === fn)) rows.push(jobRow(job));
        }
        return rows;
      }
      case 'running': {
        const runs: RunInfo[] = [];
        for (const f of fns) {
          for (const worker of f.workers) {
            for (let run = worker.heldHead; run !== null; run = run.nextHeld) {
              if (run.job.fn === f) runs.push(run);
            }
          }
        }
        return smallest(runs, limit, (a, b) => a.startedAt < b.startedAt).map((r) => jobRow(r.job));
      }
      case 'delayed':
        return this.delayed.earliest(limit, fn).map(jobRow);
      case 'queued': {
        const rows: JobInfo[] = [];
        for (const f of fns) {
          for (const queue of f.queues) {
            for (let job = queue.head; job !== null && rows.length < limit; job = job.next) {
              rows.push(jobRow(job));
            }
          }
        }
        return rows;
      }
      default:
        throw new InvalidArgumentError(`unknown job state: ${String(state)}`);
    }
  }

  /** A live job by its handle. */
  jobInfoOf(handle: string): JobInfo | undefined {
    const job = this.jobByHandle(handle);
    return job !== undefined && shown(job) ? jobRow(job) : undefined;
  }

  // ---------------------------------------------------------------------------------
  // Shutdown

  /** Resolves when no job is running (or at once). */
  whenNoneRunning(): Promise<void> {
    return this.runningCount === 0 ? Promise.resolve() : this.noneRunning.wait();
  }

  /** Jobs that are running now. */
  runningJobs(): Job[] {
    return [...this.jobs.values()].filter((job) => job.state === JobState.Running);
  }

  /** Fails every foreground job still waiting, for shutdown; background jobs stay stored. */
  failWaitingForeground(): void {
    for (const job of [...this.jobs.values()]) {
      if (!job.background && job.state !== JobState.Running) this.endJob(job, 'SHUTDOWN', false);
    }
  }

  /** Revokes the running jobs at the end of a shutdown deadline. */
  abortRunning(): void {
    for (const job of this.runningJobs()) {
      if (job.background) {
        // Stays in the store for the next start; its clients (if any) are told.
        const holder = job.run!.holder;
        const handle = job.handle;
        this.release(job);
        job.state = JobState.Done;
        this.unregister(job);
        // The server stopped it, the job did not fail: that attempt is not counted.
        if (job.stored) this.writes.update(job);
        holder.revoke(handle, 'SHUTDOWN');
        this.broadcast(job, { type: 'fail', reason: 'SHUTDOWN' });
      } else {
        this.endJob(job, 'SHUTDOWN', true);
      }
    }
  }

  stopTimers(): void {
    this.woken.stop();
    this.delayed.stop();
    for (const gate of this.gates.values()) gate.stopTimer();
    this.schedules.stop();
    this.bursts?.stop();
  }
}
