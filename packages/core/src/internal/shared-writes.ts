import type { Subscription } from 'rxjs';
import { QueueUnavailableError } from '../errors.js';
import type {
  AttemptReport,
  ProgressReport,
  QueueBackend,
  RelayedUpdate,
  ReportOutcome,
  SharedSubmission,
} from '../queue-backend.js';
import type { SubmitOutcome } from '../transport-types.js';
import type { ServerContext } from './context.js';
import type { Job } from './job.js';

export interface SharedWritesOptions {
  /** How often the progress of running jobs is written, at most (ms). */
  readonly progressInterval: number;
  /** How long a failed write waits before it is tried again (ms). */
  readonly retryInterval: number;
  /** A report the backend refused as stale (the attempt was no longer this node's). */
  readonly onStale: (report: AttemptReport) => void;
  /** The backend failed; what failed is tried again. */
  readonly onError: (error: unknown, operation: string) => void;
  /** The backend answered a report (not stale): what became of the job. */
  readonly onReported: (report: AttemptReport, outcome: ReportOutcome) => void;
}

/** A background submission waiting for its turn's batch to be answered. */
interface PendingSubmission {
  readonly submission: SharedSubmission;
  readonly resolve: (outcome: SubmitOutcome) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Calls of one kind (submissions, reports) in flight at once, at most. More wait and go in
 * one call when one is answered: a group commit, with no wait when the backend is idle and
 * bigger batches when it is busy. A TCP worker's WORK_COMPLETE, a TCP client's
 * SUBMIT_JOB_BG, each comes in a turn of its own: one statement each would cap a node at
 * the database's statements a second (issue 31's cluster bench: 400 to 2,200 jobs/s with
 * 4 libgearman workers). Two: one executing while the next is on its way (the connection is
 * pipelined).
 */
const IN_FLIGHT = 2;

/**
 * What one node writes to a shared queue's backend, gathered per turn (decision 33), and
 * while earlier calls are in flight (`IN_FLIGHT`): submissions in one call, the ends of
 * attempts in another, the progress of its running jobs at most once an interval. What the
 * backend did is reported as events once it answered, so that a query made after an event,
 * on any node, sees the change.
 */
export class SharedWrites {
  private submissions: PendingSubmission[] = [];
  private reports: AttemptReport[] = [];
  private relays: RelayedUpdate[] = [];
  private unwatched: string[] = [];
  /** Running claimed jobs whose progress changed since it was last written. */
  private readonly progressed = new Set<Job>();
  private progressTimer: Subscription | null = null;
  private retryTimer: Subscription | null = null;
  private flushQueued = false;
  /** Calls of each kind in flight: over `IN_FLIGHT`, what is gathered waits for an answer. */
  private submitting = 0;
  private reporting = 0;
  /** Relays in flight: reports wait for them, so that a job's end comes after its data. */
  private relaying = 0;
  /** Backend calls not answered yet: `close` waits for them. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Until the backend is open, what is gathered waits. */
  opened = false;
  /** Closing: a failed write is not tried again later (the node leaves; its jobs go back). */
  private closing = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly backend: QueueBackend,
    private readonly options: SharedWritesOptions,
    /** Called at the end of each flush: the queue claims what its workers want. */
    private readonly afterFlush: () => void,
  ) {}

  /** A background submission, acknowledged once the backend has it. */
  submit(submission: SharedSubmission): Promise<SubmitOutcome> {
    return new Promise<SubmitOutcome>((resolve, reject) => {
      this.submissions.push({ submission, resolve, reject });
      this.queueFlush();
    });
  }

  /** An attempt's end, written with the turn's others. */
  report(report: AttemptReport): void {
    this.reports.push(report);
    this.queueFlush();
  }

  /**
   * This node's clients of a job left (a job it holds unstarted is given back and unwatched
   * by its report instead: `abandoned`).
   */
  unwatch(handle: string): void {
    this.unwatched.push(handle);
    this.queueFlush();
  }

  /** A running job's update for the other nodes that wait for it, in order. */
  relay(update: RelayedUpdate): void {
    this.relays.push(update);
    this.queueFlush();
  }

  /**
   * Progress is written at once when no write is waiting, then at most once an interval
   * (the newest numbers of each job), and reported once written.
   */
  progress(job: Job): void {
    this.progressed.add(job);
    if (this.progressTimer !== null) return;
    this.writeProgress();
    this.progressTimer = this.ctx.scheduler.schedule(
      () => this.progressWindowEnded(),
      this.options.progressInterval,
    );
  }

  /** The job ended: its progress is not written any more. */
  forget(job: Job): void {
    this.progressed.delete(job);
  }

  /** Asks for a flush at the end of this turn (one per turn, however many ask). */
  queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Sends what this turn gathered: submissions, then reports, then the queue's claims. */
  flush(): void {
    this.flushQueued = false;
    // Not connected yet: the turn's work waits for the open (its submissions are kept).
    if (!this.opened) return;
    if (this.submissions.length > 0 && this.submitting < IN_FLIGHT) {
      const batch = this.submissions;
      this.submissions = [];
      this.sendSubmissions(batch);
    }
    if (this.relays.length > 0) {
      const batch = this.relays;
      this.relays = [];
      this.sendRelays(batch);
    }
    // Reports wait for the relays in flight: the other nodes must hear a job's data before
    // its end (they may go on different connections).
    if (this.reports.length > 0 && this.reporting < IN_FLIGHT && this.relaying === 0) {
      const batch = this.reports;
      this.reports = [];
      this.sendReports(batch);
    }
    if (this.unwatched.length > 0) {
      const handles = this.unwatched;
      this.unwatched = [];
      this.track(this.backend.unwatch(handles)).then(
        () => this.answered(),
        (error: unknown) => this.options.onError(error, 'unwatch'),
      );
    }
    this.afterFlush();
  }

  /** A backend call, remembered until it settles. */
  track<T>(call: Promise<T>): Promise<T> {
    this.pending.add(call);
    const forget = () => this.pending.delete(call);
    call.then(forget, forget);
    return call;
  }

  /** Writes what is left and waits for every call in flight. */
  async close(): Promise<void> {
    this.closing = true;
    this.progressTimer?.unsubscribe();
    this.progressTimer = null;
    this.retryTimer?.unsubscribe();
    this.retryTimer = null;
    this.writeProgress();
    this.flush();
    // What waited for a call in flight goes when it is answered (`answered` flushes again).
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** A call of one kind was answered: what waited for it goes now, in one call. */
  private answered(): void {
    if (
      this.submissions.length > 0 ||
      this.reports.length > 0 ||
      this.relays.length > 0 ||
      this.unwatched.length > 0
    ) {
      this.flush();
    }
  }

  private sendRelays(batch: RelayedUpdate[]): void {
    this.relaying++;
    this.track(this.backend.relay(batch)).then(
      () => {
        this.relaying--;
        this.answered();
      },
      (error: unknown) => {
        this.relaying--;
        // Updates of a running job are not a job's acknowledged state: the end, written with
        // its report, still reaches every node that waits.
        this.options.onError(error, 'relay');
        this.answered();
      },
    );
  }

  stopTimers(): void {
    this.progressTimer?.unsubscribe();
    this.retryTimer?.unsubscribe();
  }

  private sendSubmissions(batch: PendingSubmission[]): void {
    this.submitting++;
    this.track(this.backend.submit(batch.map((p) => p.submission))).then(
      (answers) => {
        this.submitting--;
        for (let i = 0; i < batch.length; i++) {
          const answer = answers[i];
          const pending = batch[i]!;
          if (answer === undefined) {
            pending.reject(new QueueUnavailableError('the shared queue gave no answer', null));
          } else if ('error' in answer) pending.reject(answer.error);
          else {
            if (this.ctx.events.observed) this.accepted(pending.submission, answer);
            pending.resolve({ handle: answer.handle, coalesced: answer.coalesced });
          }
        }
        this.answered();
      },
      (error: unknown) => {
        this.submitting--;
        // Never acknowledged: each submission is refused, none is lost silently.
        const refused = new QueueUnavailableError('the shared queue refused the submission', error);
        for (const pending of batch) pending.reject(refused);
        this.answered();
      },
    );
  }

  /** Reports an accepted submission as the local queue does its own. */
  private accepted(s: SharedSubmission, answer: { handle: string; coalesced: boolean }): void {
    const { handle, coalesced } = answer;
    const { functionName, unique } = s;
    if (coalesced) {
      const background = !s.foreground;
      this.ctx.emit({ type: 'coalesced', handle, functionName, unique, background });
      return;
    }
    this.ctx.emit({
      type: 'submitted',
      handle,
      functionName,
      unique,
      priority: s.priority,
      background: !s.foreground,
    });
    if (s.delay > 0) {
      this.ctx.emit({ type: 'delayed', handle, runAt: this.ctx.now() + s.delay });
    }
  }

  private sendReports(batch: AttemptReport[]): void {
    this.reporting++;
    this.track(this.backend.report(batch)).then(
      (outcomes) => {
        this.reporting--;
        for (let i = 0; i < batch.length; i++) this.reported(batch[i]!, outcomes[i]);
        this.answered();
      },
      (error: unknown) => {
        this.reporting--;
        // Not written: tried again with the next turn's, until the backend takes them
        // (or, past its lease, has given the jobs to another node, which refuses them then).
        this.options.onError(error, 'report');
        this.reports.unshift(...batch);
        this.retryLater();
      },
    );
  }

  /** The backend's answer to a report: a stale one is counted, the others reported. */
  private reported(report: AttemptReport, outcome: ReportOutcome | undefined): void {
    if (outcome === undefined || outcome.state === 'stale') {
      this.options.onStale(report);
      return;
    }
    this.options.onReported(report, outcome);
    const ctx = this.ctx;
    if (!ctx.events.observed) return;
    const handle = report.handle;
    switch (outcome.state) {
      case 'completed':
        ctx.emit({ type: 'completed', handle });
        return;
      case 'failed':
        ctx.emit({ type: 'failed', handle, reason: outcome.reason });
        return;
      case 'retrying':
        ctx.emit({
          type: 'retrying',
          handle,
          attempt: outcome.attempt,
          reason: outcome.reason,
          delay: outcome.delay,
        });
        return;
      case 'queued':
        if (report.end.kind === 'lost') {
          ctx.emit({ type: 'retried', handle, attempt: outcome.attempt });
        }
        return;
    }
  }

  private progressWindowEnded(): void {
    this.progressTimer = null;
    if (this.progressed.size === 0) return;
    this.writeProgress();
    this.progressTimer = this.ctx.scheduler.schedule(
      () => this.progressWindowEnded(),
      this.options.progressInterval,
    );
  }

  private writeProgress(): void {
    if (this.progressed.size === 0) return;
    const batch: ProgressReport[] = [];
    for (const job of this.progressed) {
      const run = job.run;
      if (run === null) continue;
      batch.push({
        handle: job.handle,
        attempt: run.attempt,
        numerator: run.numerator,
        denominator: run.denominator,
      });
    }
    this.progressed.clear();
    this.track(this.backend.progress(batch)).then(
      () => {
        if (!this.ctx.events.observed) return;
        for (const p of batch) {
          this.ctx.emit({
            type: 'progress',
            handle: p.handle,
            numerator: p.numerator,
            denominator: p.denominator,
          });
        }
      },
      (error: unknown) => this.options.onError(error, 'progress'),
    );
  }

  private retryLater(): void {
    if (this.closing) return;
    this.retryTimer ??= this.ctx.scheduler.schedule(() => {
      this.retryTimer = null;
      this.queueFlush();
    }, this.options.retryInterval);
  }
}
