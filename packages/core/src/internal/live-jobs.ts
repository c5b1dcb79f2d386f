import type { SchedulerLike } from 'rxjs';
import { BurstRelease, DEFAULT_BURST } from './burst-release.js';
import { DelayedJobs } from './delayed-jobs.js';
import { handleSeq, madeUnder } from './handles.js';
import { SeqIndex } from './job-index.js';
import { JobState, type FunctionEntry, type Job } from './job.js';
import { payloadKey, sameBody } from './payload.js';

/** Runnable: in its function's queue (shared with the jobs a shared queue claimed). */
export function enqueue(job: Job, front = false): void {
  job.state = JobState.Queued;
  const queue = job.fn.queues[job.priorityIndex];
  if (front) queue.pushFront(job);
  else queue.pushBack(job);
}

/** Ended, outside every table (a shared queue's claimed job, whose table is its own). */
export function finish(job: Job): void {
  job.state = JobState.Done;
}

/**
 * The local queue's tables of live jobs: every job by seq (with the time it was queued),
 * each function's three priority queues and its unique ids, and the delayed jobs' heap.
 *
 * A job's state changes only through the transitions below, so that the counts that go
 * with each state (a function's total, its delayed jobs by priority, the queue a job is
 * linked into) cannot drift from it:
 *
 * ```
 *  add ─> pend ──> enqueue ──> start ──> end
 *            └──> delay ──(due)──┘  └──> enqueue / delay (a retry, a lost worker)
 * ```
 *
 * `end` is reachable from every state.
 */
export class LiveJobs {
  readonly index = new SeqIndex<Job>();
  /** The highest seq given or replayed: new jobs are numbered above it. */
  seq = 0;
  private readonly delayed: DelayedJobs;
  /** Notices the end of a burst of jobs, to give memory back; null when not asked for. */
  private readonly bursts: BurstRelease | null;

  constructor(
    scheduler: SchedulerLike,
    /** Delayed jobs became due: they are queued now, in these functions. */
    private readonly due: (functions: Set<FunctionEntry>) => void,
    onBurstDrained: ((peak: { jobs: number; bytes: number }) => void) | null,
  ) {
    this.delayed = new DelayedJobs(scheduler, (jobs) => this.release(jobs));
    this.bursts =
      onBurstDrained === null ? null : new BurstRelease(scheduler, DEFAULT_BURST, onBurstDrained);
  }

  // ---------------------------------------------------------------------------------
  // Lookups

  get(seq: number): Job | undefined {
    return this.index.get(seq);
  }

  /** When the job was queued (ms on the scheduler's clock), or 0 if not measured. */
  queuedAt(job: Job): number {
    return this.index.time(job.seq);
  }

  byHandle(handle: string): Job | undefined {
    const seq = handleSeq(handle);
    if (seq === undefined) return undefined;
    const job = this.index.get(seq);
    if (job === undefined) return undefined;
    if (!job.madeHandle) return job.handle === handle ? job : undefined;
    // Compared without making the job's handle string.
    return madeUnder(handle, job.fn.handlePrefix) ? job : undefined;
  }

  /** The live job a submission coalesces with (reference §3.2): by unique id, or by payload for `-`. */
  coalescedWith(fn: FunctionEntry, unique: string, body: string | Buffer): Job | undefined {
    if (unique === '') return undefined;
    if (unique === '-') {
      const job = fn.byPayload.get(payloadKey(body));
      return job !== undefined && sameBody(job.body, body) ? job : undefined;
    }
    return fn.byUnique.get(unique);
  }

  values(): IterableIterator<Job> {
    return this.index.values();
  }

  /** Delayed jobs still waiting (of one function), earliest first, at most `limit`. */
  earliestDelayed(limit: number, fn?: FunctionEntry): Job[] {
    return this.delayed.earliest(limit, fn);
  }

  // ---------------------------------------------------------------------------------
  // Transitions

  /** A new or replayed job joins the tables (not yet in a queue). `queuedAt`: 0 if not measured. */
  add(job: Job, queuedAt: number): void {
    const fn = job.fn;
    if (job.seq > this.seq) this.seq = job.seq;
    this.index.set(job, queuedAt);
    this.bursts?.added(job.body.length);
    fn.total++;
    if (job.unique === '-') fn.byPayload.set(payloadKey(job.body), job);
    else if (job.unique !== '') fn.byUnique.set(job.unique, job);
  }

  /** Accepted, its write to the store in flight: not runnable yet, not shown. */
  pend(job: Job): void {
    job.state = JobState.Pending;
  }

  /** Runnable: at the back of its queue, or at the front (a job that ran before goes first). */
  enqueue(job: Job, front = false): void {
    enqueue(job, front);
  }

  /** Waits until `job.runAt`. */
  delay(job: Job): void {
    job.state = JobState.Delayed;
    job.fn.delayed[job.priorityIndex]++;
    this.delayed.add(job);
  }

  /** Queued or delayed by its `runAt`; returns whether it is queued now. */
  place(job: Job, clock: { now(): number }): boolean {
    // The clock is read only for a job that has a time (most have none).
    if (job.runAt !== 0 && job.runAt > clock.now()) {
      this.delay(job);
      return false;
    }
    this.enqueue(job);
    return true;
  }

  /** Taken from the front of its queue to run. */
  start(job: Job): void {
    job.state = JobState.Running;
  }

  /**
   * Leaves every table, from whatever state (a running job's run is ended by the caller
   * first). Its attachments stay on it, so that its clients can still be told how it ended.
   */
  end(job: Job): void {
    const fn = job.fn;
    const state = job.state;
    if (state === JobState.Queued) fn.queues[job.priorityIndex].remove(job);
    else if (state === JobState.Delayed) fn.delayed[job.priorityIndex]--;
    job.state = JobState.Done;
    for (let a = job.attachments; a !== null; a = a.nextOfJob) a.unlinkOwner();
    this.index.delete(job);
    this.bursts?.removed(job.body.length);
    fn.total--;
    if (job.unique === '-') {
      const key = payloadKey(job.body);
      if (fn.byPayload.get(key) === job) fn.byPayload.delete(key);
    } else if (job.unique !== '' && fn.byUnique.get(job.unique) === job) {
      fn.byUnique.delete(job.unique);
    }
  }

  /** Delayed jobs whose time has come join their queues. */
  private release(jobs: Job[]): void {
    const functions = new Set<FunctionEntry>();
    for (const job of jobs) {
      job.fn.delayed[job.priorityIndex]--;
      this.enqueue(job);
      functions.add(job.fn);
    }
    this.due(functions);
  }

  /** The server closes: no memory release from now on. */
  stopBursts(): void {
    this.bursts?.stop();
  }

  stop(): void {
    this.delayed.stop();
    this.bursts?.stop();
  }
}
