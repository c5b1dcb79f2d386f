import type { ReportOutcome, AttemptEnd } from '../queue-backend.js';
import type { JobUpdate } from '../types.js';
import type { JobListener, SubmitOutcome } from '../transport-types.js';
import { Attachment, Job, JobState, type FunctionEntry, type WorkerState } from './job.js';
import type { PriorityIndex } from './priority.js';
import type { QueueHost } from './queue.js';

/** What a watch needs to make the job it stands for here. */
export interface WatchedJob {
  readonly fn: FunctionEntry;
  readonly unique: string;
  readonly priority: PriorityIndex;
}

/**
 * The foreground jobs this node's clients wait for on a shared queue (decision 36). The
 * job itself is in the backend, where any node's worker may run it; here a `Job` stands
 * for it, holding the clients' attachments, so that every update reaches them the way the
 * local queue's do (the dispatcher's broadcast):
 *
 * - run here, its updates come from the worker at once, and its end with the report's
 *   answer (the backend decides whether a failure is retried);
 * - run on another node, its updates come from the backend (`updates`), in order, the
 *   last its end.
 *
 * When its last client here leaves, the node stops waiting (`unwatch`, batched a turn);
 * the backend drops a job nobody waits for before it starts.
 */
export class ForegroundWatches {
  private readonly jobs = new Map<string, Job>();
  private host!: QueueHost;

  constructor(
    /** Makes a `seq` for a job made here (numbered with the local queue's). */
    private readonly nextSeq: () => number,
    /** Tells the backend that this node waits for the job no more. */
    private readonly unwatch: (handle: string) => void,
  ) {}

  attach(host: QueueHost): void {
    this.host = host;
  }

  /** The job this node's clients wait on under `handle`, if any. */
  get(handle: string): Job | undefined {
    return this.jobs.get(handle);
  }

  /**
   * A foreground submission was accepted (or coalesced) as `handle`: its listener waits on
   * the job here. `running`: the job as this node holds it, if it claimed it (a background
   * job a foreground submission coalesced onto).
   */
  watch(
    handle: string,
    coalesced: boolean,
    what: WatchedJob,
    owner: WorkerState,
    listener: JobListener | undefined,
    running: Job | undefined,
  ): SubmitOutcome {
    if (listener === undefined || owner.gone) {
      // Nobody here waits for it (the client left while the submission was on its way).
      if (!this.jobs.has(handle)) this.unwatch(handle);
      return { handle, coalesced };
    }
    let job = this.jobs.get(handle) ?? running;
    if (job === undefined) {
      job = new Job({
        seq: this.nextSeq(),
        fn: what.fn,
        unique: what.unique,
        body: '',
        priority: what.priority,
        background: false,
        handle,
      });
    }
    this.jobs.set(handle, job);
    new Attachment(job, listener, owner, handle);
    return { handle, coalesced };
  }

  /**
   * This node claimed a job its clients wait for: `claimed` (with the payload) stands for it
   * from now on, their attachments moved to it.
   */
  claimed(claimed: Job): void {
    const handle = claimed.handle;
    const job = this.jobs.get(handle);
    if (job === undefined || job === claimed) return;
    for (let a = job.attachments; a !== null; a = a.nextOfJob) a.job = claimed;
    claimed.attachments = job.attachments;
    job.attachments = null;
    this.jobs.set(handle, claimed);
  }

  /**
   * The job's last client here left (the dispatcher found no attachment left). Returns
   * whether it was a watched job (the backend is told); one running here runs on.
   */
  abandoned(job: Job): boolean {
    const handle = job.handle;
    if (this.jobs.get(handle) !== job) return false;
    this.jobs.delete(handle);
    this.unwatch(handle);
    return true;
  }

  /** The job's last client here left while this node held it unstarted (it gives it back). */
  forget(job: Job): void {
    if (this.jobs.get(job.handle) === job) this.jobs.delete(job.handle);
  }

  /**
   * Updates from the backend, of a job run elsewhere (or ended by the queue). Ignored for a
   * job this node runs (`runningHere`): its clients heard them from the worker.
   */
  updates(handle: string, updates: readonly JobUpdate[], runningHere: boolean): void {
    const job = this.jobs.get(handle);
    if (job === undefined || runningHere) return;
    for (const update of updates) {
      if (update.type === 'complete' || update.type === 'fail' || update.type === 'exception') {
        this.end(handle, job, update);
        return;
      }
      this.host.broadcast(job, update);
    }
  }

  /**
   * The backend answered this node's report of an attempt: a job that ended is its clients'
   * end here (a retried one waits for its next attempt, wherever it runs).
   */
  reported(handle: string, end: AttemptEnd, outcome: ReportOutcome): void {
    const job = this.jobs.get(handle);
    if (job === undefined) return;
    let update: JobUpdate;
    if (outcome.state === 'completed') {
      update = { type: 'complete', data: end.kind === 'complete' ? end.data : Buffer.alloc(0) };
    } else if (outcome.state === 'failed') {
      update =
        outcome.reason === 'EXCEPTION' && end.kind === 'exception'
          ? { type: 'exception', data: end.data }
          : { type: 'fail', reason: outcome.reason };
    } else return;
    this.end(handle, job, update);
  }

  /** A job of this node's clients was cancelled while it ran here: they are told now. */
  cancelled(handle: string): void {
    const job = this.jobs.get(handle);
    if (job === undefined) return;
    this.end(handle, job, { type: 'fail', reason: 'CANCELLED' });
  }

  /**
   * The node closes: clients of jobs not running here are told (`SHUTDOWN`), and the node
   * waits for them no more; those running here end with their run.
   */
  failWaiting(runningHere: (job: Job) => boolean): void {
    for (const [handle, job] of [...this.jobs]) {
      if (runningHere(job)) continue;
      this.unwatch(handle);
      this.end(handle, job, { type: 'fail', reason: 'SHUTDOWN' });
    }
  }

  /**
   * The job's end, told to its clients here. As the local queue ends a job: it leaves its
   * clients' connections first (a client that submits again on hearing it finds itself
   * waiting for nothing else), then they hear it.
   */
  private end(handle: string, job: Job, update: JobUpdate): void {
    this.jobs.delete(handle);
    job.state = JobState.Done;
    for (let a = job.attachments; a !== null; a = a.nextOfJob) a.unlinkOwner();
    this.host.broadcast(job, update);
  }
}
