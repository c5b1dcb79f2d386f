import { checkName } from './checks.js';
import type { ServerContext } from './context.js';
import { FunctionLatencies } from './latency.js';
import {
  Ability,
  Attachment,
  RunInfo,
  type FunctionEntry,
  type Job,
  type JobListener,
  type PriorityIndex,
  type WorkerState,
} from './job.js';
import type { FunctionTable } from './function-table.js';
import type { JobQueue, QueueHost } from './queue.js';
import type { Assignment } from '../transport-types.js';
import type { FailReason, JobUpdate } from '../types.js';
import { Wakes } from './wakes.js';
import { Waiters } from './waiters.js';

export interface DispatcherOptions {
  /** Sleepers woken per job not yet promised to a woken worker; 0 wakes every sleeper. */
  readonly workerWakeup: number;
  /** How long a woken worker has to grab before every sleeper of the function is woken. */
  readonly wakeTimeout: number;
}

/**
 * This node's side of the job server (decision 33): the connections' workers and what they
 * can do, sleep and wake-ups, handing jobs to workers, and the clients waiting on jobs. It
 * takes jobs from the queue and tells it how each attempt ended; the queue tells it, as
 * its host, when jobs are waiting and when a job ended.
 */
export class Dispatcher implements QueueHost {
  private readonly wakes: Wakes;
  private runningCount = 0;
  private readonly noneRunning = new Waiters();

  constructor(
    private readonly ctx: ServerContext,
    private readonly queue: JobQueue,
    private readonly functions: FunctionTable,
    options: DispatcherOptions,
  ) {
    this.wakes = new Wakes(ctx.scheduler, queue, options.workerWakeup, options.wakeTimeout);
    queue.attach(this);
  }

  // ---------------------------------------------------------------------------------
  // QueueHost: what the queue tells this node

  waiting(fn: FunctionEntry): void {
    this.wakes.ensure(fn);
  }

  /**
   * Takes a running job back from its holder. `endedAt`: when the run ended, if read already
   * (its kept outcome's end, read in the same call), else NaN.
   */
  release(job: Job, endedAt: number): void {
    const run = job.run!;
    const ctx = this.ctx;
    // Every end of an attempt comes here, so run times are measured here only. Read fresh
    // (unless just read for the outcome): the handler may have run since the stretch's
    // reading (stamps.ts).
    if (ctx.timingSince >= 0 && run.startedAt >= ctx.timingSince) {
      const end = endedAt === endedAt ? endedAt : ctx.stamps.read();
      (job.fn.latencies ??= new FunctionLatencies()).run.observe(end - run.startedAt);
    }
    run.timer?.unsubscribe();
    const ability = run.ability;
    ability.active--;
    job.fn.running--;
    if (--this.runningCount === 0) this.noneRunning.release();
    const holder = run.holder;
    run.unlink();
    job.run = null;
    // The holder has room again for this function.
    if (
      holder.sleeping &&
      ability.active < ability.capacity &&
      holder.abilities.get(job.fn.name) === ability
    ) {
      job.fn.sleepers.add(ability);
    }
  }

  broadcast(job: Job, update: JobUpdate): void {
    // Each attachment keeps its handle once made: none is made again for each update.
    for (let a = job.attachments; a !== null; a = a.nextOfJob) a.deliver(update);
  }

  revoke(holder: WorkerState, handle: string, reason: FailReason): void {
    holder.revoke(handle, reason);
  }

  // ---------------------------------------------------------------------------------
  // Clients

  /**
   * Removes one listener (an aborted submission) or all of a connection's listeners of a job.
   * A foreground job nobody waits for any more is dropped if it has not started; a running
   * one finishes and its result goes nowhere. Background jobs always stay.
   */
  detach(job: Job, owner: WorkerState, listener?: JobListener): void {
    if (!Attachment.removeFrom(job, owner, listener)) this.queue.abandoned(job);
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
      this.wakes.ensure(fn);
    }
    // A registration is room for jobs: a shared queue claims for it at once, and hears of the
    // function's jobs from then on (else a job of a higher priority waits in the backend
    // while the worker takes one this node has at hand).
    this.queue.idle(worker);
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
    for (const job of worker.heldJobs()) if (job.fn === fn) this.queue.lost(job);
    if (worker.wokenFor === fn) this.wakes.settle(worker);
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
    if (worker.sleeping) this.wakes.unsleep(worker);
    const woken = this.wakes.clear(worker);
    const assignment = this.ctx.closing ? undefined : this.take(worker);
    // Nothing at hand for a worker that asked: a shared queue claims some for it, as for a
    // sleeper (a worker may poll with GRAB_JOB and never send PRE_SLEEP).
    if (assignment === undefined && !this.ctx.closing) this.queue.idle(worker);
    // The wake is used up. If the worker took another function's job (or none), the job it
    // was woken for still needs a worker.
    if (woken !== null) this.wakes.ensure(woken);
    return assignment;
  }

  private take(worker: WorkerState): Assignment | undefined {
    const order = worker.order;
    const n = order.length;
    const queue = this.queue;
    for (let priority = 0; priority < 3; priority++) {
      // From the cursor round to it again; a compare rather than `%`, which is a division
      // (some 20 instructions each, twice a job: decision 33).
      let index = worker.cursor;
      for (let k = 0; k < n; k++, index++) {
        if (index >= n) index = 0;
        const ability = order[index]!;
        if (ability.active >= ability.capacity) continue;
        const job = queue.take(ability.fn, priority as PriorityIndex);
        if (job === null) continue;
        worker.cursor = index + 1 === n ? 0 : index + 1;
        return this.assign(job, worker, ability);
      }
    }
    return undefined;
  }

  private assign(job: Job, worker: WorkerState, ability: Ability): Assignment {
    const ctx = this.ctx;
    const timing = ctx.timingSince >= 0;
    const startedAt = timing || this.queue.stampsStart(job) ? ctx.stamps.now() : 0;
    const run = new RunInfo(job, worker, ability, startedAt);
    // A job queued before timings were turned on has no time to wait from; nor has a later
    // attempt queued again at once (a lost worker, a retry without back-off): its wait
    // began at the last attempt's end, which is not kept (a field on every job would be).
    if (timing) {
      const queuedAt = this.queue.queuedAt(job);
      if (queuedAt >= ctx.timingSince && (job.retries === 0 || job.runAt > queuedAt)) {
        const from = job.runAt > queuedAt ? job.runAt : queuedAt;
        (job.fn.latencies ??= new FunctionLatencies()).wait.observe(startedAt - from);
      }
    }
    job.run = run;
    ability.active++;
    job.fn.running++;
    this.runningCount++;
    if (ability.timeout > 0) {
      run.timer = ctx.scheduler.schedule(() => {
        if (job.run === run) this.queue.timedOut(job);
      }, ability.timeout);
    }
    if (ctx.events.observed) {
      ctx.emit({
        type: 'started',
        handle: run.handle,
        functionName: job.fn.name,
        attempt: run.attempt,
        connection: worker.id,
      });
    }
    return run;
  }

  preSleep(worker: WorkerState): void {
    this.wakes.preSleep(worker);
  }

  // ---------------------------------------------------------------------------------
  // Work reports (the job is one the worker holds: the connection checked)

  /** The job this connection holds under `handle`, or undefined. */
  held(worker: WorkerState, handle: string): Job | undefined {
    const job = this.queue.byHandle(handle);
    return job !== undefined && job.run?.holder === worker ? job : undefined;
  }

  workStatus(job: Job, numerator: number, denominator: number): void {
    const run = job.run!;
    run.numerator = numerator;
    run.denominator = denominator;
    this.broadcast(job, { type: 'status', numerator, denominator });
    // The queue reports it (a shared queue, once it has written it).
    this.queue.progress(job);
  }

  workData(job: Job, type: 'data' | 'warning', data: Buffer): void {
    const update = { type, data };
    this.broadcast(job, update);
    // A shared queue passes it on to the other nodes that wait for the job.
    this.queue.passOn(job, update);
  }

  workComplete(job: Job, data: Buffer): void {
    this.queue.complete(job, data);
  }

  /** `thrown`: the error an in-process handler threw (a WorkFail), for its kept outcome. */
  workFail(job: Job, thrown?: unknown): void {
    this.queue.fail(job, thrown);
  }

  /** The worker gives back a job it holds and never started (see JobQueue.giveBack). */
  giveBack(job: Job): void {
    this.queue.giveBack(job);
  }

  /** `thrown`: the error an in-process handler threw, for its kept outcome. */
  workException(job: Job, data: Buffer, thrown?: unknown): void {
    this.queue.exception(job, data, thrown);
  }

  /** A connection went away: its jobs go back, its listeners and registrations are dropped. */
  disconnect(worker: WorkerState): void {
    worker.gone = true;
    for (const job of worker.heldJobs()) this.queue.lost(job);
    this.wakes.unsleep(worker);
    this.wakes.settle(worker);
    for (const ability of worker.order) ability.fn.workers.delete(worker);
    worker.abilities.clear();
    worker.order = [];
    const jobs: Job[] = [];
    for (let a = worker.attachedHead; a !== null; a = a.nextOfOwner) jobs.push(a.job);
    for (const job of jobs) this.detach(job, worker);
  }

  // ---------------------------------------------------------------------------------
  // Shutdown

  /** Resolves when no job is running (or at once). */
  whenNoneRunning(): Promise<void> {
    return this.runningCount === 0 ? Promise.resolve() : this.noneRunning.wait();
  }

  get running(): number {
    return this.runningCount;
  }

  stopTimers(): void {
    this.wakes.stop();
  }
}
