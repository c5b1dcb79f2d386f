import { EMPTY, Observable, type Subscriber } from 'rxjs';
import type { SubmittedJob } from '../client-types.js';
import {
  InvalidArgumentError,
  JobExceptionError,
  JobFailedError,
  SubmissionAbortedError,
} from '../errors.js';
import type { JobListener, SubmitOutcome } from '../transport-types.js';
import type { JobUpdate } from '../types.js';

// The jobs a client hands the application (`SubmittedJob`): a foreground one, which is the
// listener of its job's updates, and a background one (client.ts).

/** Where a submission's result stands (a const enum: each use is a number, see job.ts). */
const enum Settled {
  Pending,
  Resolved,
  Rejected,
}

/** What few submissions need: subscribers, non-final updates for replay, an abort hook. */
interface Extras {
  log: JobUpdate[];
  subscribers: Set<Subscriber<JobUpdate>> | null;
  observable: Observable<JobUpdate> | null;
  abortCleanup: (() => void) | null;
}

/**
 * One foreground submission's view of a job; it is the listener the server delivers updates
 * to. Kept small (thousands may wait at once): what most jobs never use lives in `extras`.
 */
export class ClientJob implements SubmittedJob, JobListener {
  coalesced = false;
  /** The accepted submission, until the handle is read from it (see `handle`). */
  private accepted: SubmitOutcome | null = null;
  private handleText = '';
  private state = Settled.Pending;
  /** The result once resolved, the error once rejected. */
  private outcome: Buffer | Error | null = null;
  private promise: Promise<Buffer> | null = null;
  private resolve: ((value: Buffer) => void) | null = null;
  private reject: ((error: Error) => void) | null = null;
  private extras: Extras | null = null;

  constructor(
    readonly functionName: string,
    readonly unique: string,
    readonly exceptions: boolean,
  ) {}

  /**
   * The job's handle, read from the accepted submission when first asked for. A job that
   * `run` keeps from the application is never asked unless it fails, and an in-process
   * server then never makes the string: some 350 instructions a job (decision 33).
   */
  get handle(): string {
    const accepted = this.accepted;
    if (accepted !== null) {
      this.handleText = accepted.handle;
      this.accepted = null;
    }
    return this.handleText;
  }

  get background(): boolean {
    return false;
  }

  get result(): Promise<Buffer> {
    if (this.promise === null) {
      const outcome = this.outcome;
      if (outcome instanceof Error) this.promise = Promise.reject(outcome);
      else if (outcome !== null) this.promise = Promise.resolve(outcome);
      else {
        this.promise = new Promise<Buffer>((resolve, reject) => {
          this.resolve = resolve;
          this.reject = reject;
        });
      }
    }
    return this.promise;
  }

  get events$(): Observable<JobUpdate> {
    const extras = this.more();
    return (extras.observable ??= new Observable<JobUpdate>((subscriber) => {
      for (const update of extras.log) subscriber.next(update);
      if (this.state !== Settled.Pending) {
        this.replayEnd(subscriber);
        return undefined;
      }
      (extras.subscribers ??= new Set()).add(subscriber);
      return () => extras.subscribers?.delete(subscriber);
    }));
  }

  async text(): Promise<string> {
    return (await this.result).toString('utf8');
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** JobListener: an update from the server. */
  update(_handle: string, update: JobUpdate): void {
    if (this.state !== Settled.Pending) return;
    const extras = this.extras;
    switch (update.type) {
      case 'complete':
        this.settle(Settled.Resolved, update.data, update);
        return;
      case 'fail':
        this.settle(Settled.Rejected, new JobFailedError(this.handle, update.reason), update);
        return;
      case 'exception':
        this.settle(Settled.Rejected, new JobExceptionError(this.handle, update.data), update);
        return;
      default:
        // Non-final updates are kept for subscribers who come later.
        this.more().log.push(update);
        if (extras?.subscribers) for (const s of extras.subscribers) s.next(update);
    }
  }

  /** JobListener: the result, without the handle (which `run` may never read). */
  completed(update: Extract<JobUpdate, { type: 'complete' }>): void {
    if (this.state === Settled.Pending) this.settle(Settled.Resolved, update.data, update);
  }

  /**
   * `later`: the handle is read when asked for. Else now, so that a job the application
   * holds does not hold `outcome` (in process, the attachment, which keeps the ended job).
   */
  bind(outcome: SubmitOutcome, later: boolean): void {
    this.coalesced = outcome.coalesced;
    if (later) this.accepted = outcome;
    else this.handleText = outcome.handle;
  }

  /** JobListener: the outcome can no longer arrive (a lost server). */
  lost(_handle: string, error: Error): void {
    this.settle(Settled.Rejected, error, null);
  }

  watchAbort(signal: AbortSignal, onAbort: () => void): void {
    const listener = () => {
      onAbort();
      this.settle(Settled.Rejected, new SubmissionAbortedError(signal.reason), null);
    };
    signal.addEventListener('abort', listener, { once: true });
    this.more().abortCleanup = () => signal.removeEventListener('abort', listener);
  }

  private more(): Extras {
    return (this.extras ??= { log: [], subscribers: null, observable: null, abortCleanup: null });
  }

  /** Ends a replay: the final update (rebuilt from the outcome), or the abort error. */
  private replayEnd(subscriber: Subscriber<JobUpdate>): void {
    const outcome = this.outcome;
    if (
      outcome instanceof Error &&
      !(outcome instanceof JobFailedError || outcome instanceof JobExceptionError)
    ) {
      subscriber.error(outcome);
      return;
    }
    if (outcome instanceof JobFailedError)
      subscriber.next({ type: 'fail', reason: outcome.reason });
    else if (outcome instanceof JobExceptionError)
      subscriber.next({ type: 'exception', data: outcome.data });
    else subscriber.next({ type: 'complete', data: outcome as Buffer });
    subscriber.complete();
  }

  private settle(
    state: Settled.Resolved | Settled.Rejected,
    outcome: Buffer | Error,
    final: JobUpdate | null,
  ): void {
    if (this.state !== Settled.Pending) return;
    this.state = state;
    this.outcome = outcome;
    if (state === Settled.Resolved) this.resolve?.(outcome as Buffer);
    else this.reject?.(outcome as Error);
    this.resolve = this.reject = null;
    const extras = this.extras;
    if (extras === null) return;
    extras.abortCleanup?.();
    extras.abortCleanup = null;
    const subscribers = extras.subscribers;
    extras.subscribers = null;
    if (subscribers === null) return;
    for (const s of subscribers) {
      if (final === null) s.error(outcome);
      else {
        s.next(final);
        s.complete();
      }
    }
  }
}

/**
 * A background submission: no updates ever come, so it holds only what identifies the job
 * (it is made by the million).
 */
export class BackgroundJob implements SubmittedJob {
  readonly background = true;
  handle = '';
  coalesced = false;

  constructor(
    readonly functionName: string,
    readonly unique: string,
  ) {}

  get result(): Promise<Buffer> {
    return Promise.reject(
      new InvalidArgumentError('a background job has no result; poll its status'),
    );
  }

  get events$(): Observable<JobUpdate> {
    return EMPTY;
  }

  text(): Promise<string> {
    return this.result.then((r) => r.toString('utf8'));
  }

  json<T = unknown>(): Promise<T> {
    return this.text().then((t) => JSON.parse(t) as T);
  }

  bind(outcome: SubmitOutcome): void {
    this.handle = outcome.handle;
    this.coalesced = outcome.coalesced;
  }
}
