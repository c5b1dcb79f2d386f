import type { AttemptFailure, FailReason, Retention } from '../types.js';
import { attemptError } from './attempt-error.js';
import { checkLimit, checkName } from './checks.js';
import type { ServerContext } from './context.js';
import type { FunctionEntry, Job } from './job.js';
import { KeptOutcome, NO_ERRORS, OutcomeDraft, recordOf } from './kept-outcome.js';
import { Outcomes } from './outcomes.js';
import { toBody, type Body } from './payload.js';
import type { StoreWrites } from './store-writes.js';

/**
 * What the local queue keeps of ended background jobs (decisions 21 and 22): the outcome of
 * each, by the retention of its function, in memory and, for a stored job, in the store in
 * the commit that removes the job; and the errors of its failed attempts on the way.
 */
export class OutcomeKeeper {
  readonly outcomes: Outcomes;
  /** The outcome of the job ending now, reused (see OutcomeDraft). */
  private readonly draft = new OutcomeDraft();

  constructor(
    private readonly ctx: ServerContext,
    retention: Required<Retention>,
    handlePrefix: string,
    private readonly writes: StoreWrites,
    /** Bytes of a result or an exception kept in an outcome. */
    private readonly dataLimit: number,
    private readonly queuedAt: (job: Job) => number,
  ) {
    this.outcomes = new Outcomes(retention, handlePrefix, (seq, handle) =>
      writes.forgetOutcome(seq, handle),
    );
  }

  /** Which outcomes of a function are kept (KEEP_ bits), cached on its entry per policy. */
  keeps(fn: FunctionEntry): number {
    const keeps = fn.keeps;
    return keeps >= 0 ? keeps : (fn.keeps = this.outcomes.keeps(fn.name));
  }

  setRetention(functionName: string, retention: Retention | null, fn?: FunctionEntry): void {
    checkName(functionName, 'function name');
    this.outcomes.setRetention(functionName, retention);
    if (fn !== undefined) fn.keeps = -1;
  }

  retention(functionName: string): Retention | null {
    return this.outcomes.retentionOf(functionName);
  }

  /** Notes the running attempt's failure on the job, for its outcome. */
  noteFailure(job: Job, reason: AttemptFailure, data: Buffer | null, thrown?: unknown): void {
    job.failed(attemptError(job.retries + 1, reason, data, thrown, this.ctx.now(), this.dataLimit));
  }

  /**
   * Keeps how a background job ended (before it leaves the tables, while its run is known):
   * a result capped to the data limit, or a failed job's whole payload (to run it again).
   * Returns the end it stamped, so that the run's time is measured to the same reading.
   */
  keep(job: Job, state: 'completed' | 'failed', reason: FailReason | null, data: Body): number {
    const limit = this.dataLimit;
    const truncated = state === 'completed' && data.length > limit;
    let body = truncated && typeof data !== 'string' ? data.subarray(0, limit) : data;
    // The outcomes copy what they keep of a Buffer; a record for the store must own its
    // bytes as well (the result may be a view of a socket read).
    if (job.stored && typeof body !== 'string') body = toBody(body, false);
    // The end of a run is read fresh, so that a synchronous handler's run is measured.
    const now = this.ctx.stamps.read();
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
    o.queuedAt = this.queuedAt(job);
    o.startedAt = job.run?.startedAt ?? now;
    o.endedAt = now;
    o.retry = job.retry;
    // Kept by the store in the commit that removes the job, when it keeps outcomes.
    if (this.outcomes.add(o, body, now) && job.stored) {
      this.writes.keepOutcome(recordOf(o, body));
    }
    return now;
  }

  /** Keeps an outcome again (a dead letter whose run by hand the store refused). */
  restore(outcome: KeptOutcome): void {
    this.outcomes.add(outcome, outcome.body, this.ctx.now(), false);
    if (outcome.stored) this.writes.keepOutcome(outcome.record());
  }

  get(handle: string): KeptOutcome | undefined {
    return this.outcomes.get(handle, this.ctx.now());
  }

  list(functionName?: string, state?: 'completed' | 'failed', limit = Infinity): KeptOutcome[] {
    checkLimit(limit);
    return this.outcomes.list(this.ctx.now(), functionName, state, limit);
  }

  count(functionName?: string, state?: 'completed' | 'failed'): number {
    return this.outcomes.count(this.ctx.now(), functionName, state);
  }

  /** Forgets one kept outcome; returns whether there was one. */
  discard(handle: string): boolean {
    const removed = this.outcomes.remove(handle) !== undefined;
    if (removed && this.ctx.events.observed) this.ctx.emit({ type: 'discarded', handle });
    return removed;
  }

  /** Forgets every failed outcome of a function; returns how many. */
  discardFailed(functionName: string): number {
    let count = 0;
    for (const outcome of this.outcomes.list(this.ctx.now(), functionName, 'failed')) {
      if (this.discard(outcome.handle)) count++;
    }
    return count;
  }
}
