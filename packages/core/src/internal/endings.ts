import type { AttemptFailure, FailReason } from '../types.js';
import { backoffDelay, type Retries } from '../retry.js';
import type { ServerContext } from './context.js';
import { JobState, type Job } from './job.js';
import type { LiveJobs } from './live-jobs.js';
import { KEEP_COMPLETED, KEEP_FAILED } from './outcomes.js';
import type { OutcomeKeeper } from './outcome-keeper.js';
import type { QueueHost } from './queue.js';
import type { StoreWrites } from './store-writes.js';

export interface EndingsOptions {
  /** Times a job whose worker was lost is handed out again, for a job with no retry policy. */
  readonly maxRetries: number;
  /** 0 ≤ r < 1, for the jitter of back-offs. */
  readonly random: () => number;
}

/**
 * How the local queue's attempts end: completed, failed, thrown, timed out or lost with
 * their worker; each either the job's end (its outcome kept, its clients told, its record
 * removed) or, under a retry policy, a wait for its next attempt (decisions 8 and 21).
 */
export class Endings {
  host!: QueueHost;

  constructor(
    private readonly ctx: ServerContext,
    private readonly live: LiveJobs,
    private readonly kept: OutcomeKeeper,
    private readonly writes: StoreWrites,
    /** The retry policy that applies to a job (its own, else its function's), or null. */
    private readonly retryPolicyOf: (job: Job) => Retries | null,
    private readonly options: EndingsOptions,
  ) {}

  complete(job: Job, data: Buffer): void {
    let endedAt = Number.NaN;
    if (job.background && (this.kept.keeps(job.fn) & KEEP_COMPLETED) !== 0) {
      endedAt = this.kept.keep(job, 'completed', null, data);
    }
    job.fn.counts.completed++;
    this.finish(job, endedAt);
    this.host.broadcast(job, { type: 'complete', data });
    if (this.ctx.events.observed) this.ctx.emit({ type: 'completed', handle: job.handle });
  }

  /** `thrown`: the error an in-process handler threw (a WorkFail), for its kept outcome. */
  fail(job: Job, thrown?: unknown): void {
    if (!this.retryLater(job, 'WORK_FAIL', null, thrown)) {
      this.endJob(job, 'WORK_FAIL', false, 'WORK_FAIL', thrown);
    }
  }

  /** `thrown`: the error an in-process handler threw, for its kept outcome. */
  exception(job: Job, data: Buffer, thrown?: unknown): void {
    if (this.retryLater(job, 'EXCEPTION', data, thrown)) return;
    let endedAt = Number.NaN;
    if (job.background && (this.kept.keeps(job.fn) & KEEP_FAILED) !== 0) {
      this.kept.noteFailure(job, 'EXCEPTION', data, thrown);
      endedAt = this.kept.keep(job, 'failed', 'EXCEPTION', job.body);
    }
    job.fn.counts.failed++;
    this.finish(job, endedAt);
    this.host.broadcast(job, { type: 'exception', data });
    if (this.ctx.events.observed) {
      this.ctx.emit({ type: 'failed', handle: job.handle, reason: 'EXCEPTION' });
    }
  }

  timedOut(job: Job): void {
    if (!this.retryLater(job, 'TIMEOUT')) this.endJob(job, 'TIMEOUT', true, 'TIMEOUT');
  }

  /**
   * A running job lost its worker: back to the front of its queue, or failed once it has
   * been retried `maxRetries` times. While the server closes, a foreground job fails with
   * `SHUTDOWN` instead and a background job stays queued (and stored) for the next start.
   */
  lost(job: Job): void {
    const ctx = this.ctx;
    if (ctx.closing && !job.background) {
      // Nobody will run it any more: its clients are told now.
      this.endJob(job, 'SHUTDOWN', false);
      return;
    }
    if (!job.background && job.attachments === null) {
      // Its clients are gone: nobody wants it run again.
      this.release(job);
      this.live.end(job);
      return;
    }
    if (!ctx.closing && this.retryPolicyOf(job) !== null) {
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
    job.fn.counts.requeued++;
    this.queueAgain(job);
  }

  /** A job that ran before goes first in its queue, for its next attempt. */
  queueAgain(job: Job): void {
    this.live.enqueue(job, true);
    if (this.ctx.events.observed) {
      this.ctx.emit({ type: 'retried', handle: job.handle, attempt: job.retries + 1 });
    }
    this.host.waiting(job.fn);
  }

  /**
   * Ends a job with a failure its clients are told about; the holder, if any, is told too.
   * `failure`: the attempt's failure, for a job whose outcome is kept (none for a job
   * cancelled or stopped by the server).
   */
  endJob(
    job: Job,
    reason: FailReason,
    revoke: boolean,
    failure?: AttemptFailure,
    thrown?: unknown,
  ): void {
    const holder = job.run?.holder;
    const handle = job.handle;
    let endedAt = Number.NaN;
    if (failure !== undefined && job.background && (this.kept.keeps(job.fn) & KEEP_FAILED) !== 0) {
      this.kept.noteFailure(job, failure, null, thrown);
      endedAt = this.kept.keep(job, 'failed', reason, job.body);
    }
    if (reason === 'CANCELLED') job.fn.counts.cancelled++;
    else job.fn.counts.failed++;
    this.finish(job, endedAt);
    if (revoke && holder !== undefined) this.host.revoke(holder, handle, reason);
    this.host.broadcast(job, { type: 'fail', reason });
    if (this.ctx.events.observed) {
      this.ctx.emit(
        reason === 'CANCELLED' ? { type: 'cancelled', handle } : { type: 'failed', handle, reason },
      );
    }
  }

  /** Takes a finished job out of every table (before its clients hear of it). */
  private finish(job: Job, endedAt: number): void {
    if (job.state === JobState.Running) this.release(job, endedAt);
    this.live.end(job);
    if (job.stored) this.writes.remove(job);
  }

  /** The run of `job` ends; under a concurrency limit, another of its jobs may start. */
  private release(job: Job, endedAt = Number.NaN): void {
    this.host.release(job, endedAt);
    const fn = job.fn;
    if (fn.gate !== null && fn.queued > 0) this.host.waiting(fn);
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
    if (job.background) this.kept.noteFailure(job, reason, data, thrown);
    const holder = job.run!.holder;
    const handle = job.handle;
    this.release(job);
    if (reason === 'TIMEOUT') this.host.revoke(holder, handle, 'TIMEOUT');
    job.retries = failed;
    job.fn.counts.retried++;
    const delay = backoffDelay(policy.backoff, failed, this.options.random);
    if (delay > 0) {
      job.runAt = this.ctx.now() + delay;
      this.live.delay(job);
    } else {
      this.live.enqueue(job, true);
    }
    // The attempt is counted, and the time of the next one kept, for a restart.
    if (job.stored) this.writes.update(job);
    if (this.ctx.events.observed) {
      this.ctx.emit({ type: 'retrying', handle, attempt: failed, reason, delay });
    }
    if (delay === 0) this.host.waiting(job.fn);
    return true;
  }

  runningJobs(): Job[] {
    return [...this.live.values()].filter((job) => job.state === JobState.Running);
  }

  /** Fails every foreground job still waiting, for shutdown; background jobs stay stored. */
  failWaitingForeground(): void {
    for (const job of [...this.live.values()]) {
      if (!job.background && job.state !== JobState.Running) this.endJob(job, 'SHUTDOWN', false);
    }
  }

  /** Revokes the running jobs at the end of a shutdown deadline. */
  abortRunning(): void {
    for (const job of this.runningJobs()) {
      if (!job.background) {
        this.endJob(job, 'SHUTDOWN', true);
        continue;
      }
      // Stays in the store for the next start; its clients (if any) are told.
      const holder = job.run!.holder;
      const handle = job.handle;
      this.host.release(job, Number.NaN);
      this.live.end(job);
      // The server stopped it, the job did not fail: that attempt is not counted.
      if (job.stored) this.writes.update(job);
      this.host.revoke(holder, handle, 'SHUTDOWN');
      this.host.broadcast(job, { type: 'fail', reason: 'SHUTDOWN' });
    }
  }
}
