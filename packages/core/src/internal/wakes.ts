import type { SchedulerLike } from 'rxjs';
import type { FunctionEntry, WorkerState } from './job.js';
import type { JobQueue } from './queue.js';
import { WakeDeadlines } from './wake-deadlines.js';

/**
 * Sleep and wake-ups (decision 18): which workers sleep in which functions' lists, which
 * were woken and have not grabbed yet, and the rule that decides how many to wake.
 */
export class Wakes {
  /** Workers woken and not yet grabbing, oldest first (see `ensure`). */
  private readonly woken: WakeDeadlines<WorkerState>;

  constructor(
    scheduler: SchedulerLike,
    private readonly queue: JobQueue,
    /** Sleepers woken per job not yet promised to a woken worker; 0 wakes every sleeper. */
    private readonly workerWakeup: number,
    /** How long a woken worker has to grab before every sleeper of the function is woken. */
    wakeTimeout: number,
  ) {
    this.woken = new WakeDeadlines(scheduler, wakeTimeout, (late) => this.unanswered(late));
  }

  /**
   * PRE_SLEEP: with work available the connection is woken at once; otherwise it sleeps
   * until a job arrives for one of its functions that it has room for (reference §3.4).
   */
  preSleep(worker: WorkerState): void {
    // A PRE_SLEEP answers an earlier NOOP as a grab does: that wake is used up.
    this.settle(worker);
    for (const ability of worker.order) {
      // A paused or limited function's jobs are not startable: the worker sleeps until the
      // gate opens (resume, a running job ending, the rate's window moving on).
      if (ability.active < ability.capacity && this.queue.startable(ability.fn) > 0) {
        this.wakeOne(worker, ability.fn);
        return;
      }
    }
    worker.sleeping = true;
    for (const ability of worker.order) {
      if (ability.active < ability.capacity) ability.fn.sleepers.add(ability);
    }
    this.queue.idle(worker);
  }

  /** The worker is awake (it asked for work): it leaves every sleepers' list. */
  unsleep(worker: WorkerState): void {
    worker.sleeping = false;
    for (const ability of worker.order) ability.fn.sleepers.remove(ability);
  }

  /**
   * The wake rule (decision 18). A function's sleepers are woken, oldest asleep first, one
   * per startable job not yet promised to a woken worker (`workerWakeup` per job; 0 wakes
   * them all, gearmand's default). A woken worker that has not grabbed within `wakeTimeout`
   * ms while its function still has queued jobs makes the server wake every sleeper of that
   * function: a dead, hung or busy worker delays a job by at most that long, and a crowd is
   * woken only then, not for every job.
   */
  ensure(fn: FunctionEntry, everyone = this.workerWakeup === 0): void {
    // Nobody asleep (the common case while workers are busy): nothing to count.
    if (fn.sleepers.head === null) return;
    const perJob = this.workerWakeup;
    // Only as many as may start now: a gated function's other jobs wait for its gate.
    const startable = this.queue.startable(fn);
    while (
      fn.sleepers.head !== null &&
      (everyone ? startable > 0 : startable * perJob > fn.wakesPending)
    ) {
      const worker = fn.sleepers.head.worker;
      this.unsleep(worker);
      this.wakeOne(worker, fn);
    }
  }

  /** Ends a connection's outstanding wake, if any; returns the function it was for. */
  clear(worker: WorkerState): FunctionEntry | null {
    const fn = worker.wokenFor;
    if (fn === null) return null;
    worker.wokenFor = null;
    fn.wakesPending--;
    this.woken.remove(worker);
    return fn;
  }

  /** A woken connection left or is woken again: its earlier wake no longer counts. */
  settle(worker: WorkerState): void {
    const fn = this.clear(worker);
    if (fn !== null) this.ensure(fn);
  }

  stop(): void {
    this.woken.stop();
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

  /** Wakes that went unanswered: every sleeper of a function that still has jobs wakes. */
  private unanswered(late: WorkerState[]): void {
    const stalled = new Set<FunctionEntry>();
    for (const worker of late) {
      const fn = this.clear(worker)!;
      if (fn.queued > 0) stalled.add(fn);
    }
    for (const fn of stalled) this.ensure(fn, true);
  }
}
