import {
  type ClientOptions,
  type FailReason,
  type JobHandler,
  type JobStatus,
  type JobUpdate,
  type Priority,
  type UniqueJobStatus,
} from '@geartrain/core';
import {
  checkOptions,
  ClientBase,
  deliver,
  encodeResult,
  knownKeys,
  toBuffer,
  type JobListener,
  type SubmitOutcome,
  type SubmitRequest,
  type SubmitTarget,
} from '@geartrain/core/transport';
import { runJob } from './run-job.js';

/** One submission the fake client received. */
export interface Submission {
  readonly handle: string;
  readonly functionName: string;
  readonly payload: Buffer;
  readonly priority: Priority;
  readonly unique: string;
  readonly background: boolean;
  /** When a delayed job was asked to run, in ms (from `runAt` or `now() + delay`). */
  readonly runAt: number | undefined;
  /** The payload as UTF-8. */
  text(): string;
  /** The payload parsed as JSON. */
  json<T = unknown>(): T;
}

/**
 * How a job ends: a result (encoded as a handler's return value: a Buffer or string as is,
 * nothing as an empty result, anything else as JSON), a plain
 * failure, an exception, or a handler run with a recording context (its status, data and
 * warnings reach the submitter before its outcome).
 */
export type FakeOutcome =
  | { readonly result: unknown }
  | { readonly fail: true | FailReason }
  | { readonly exception: string }
  | { readonly handler: JobHandler };

interface Held {
  readonly submission: Submission;
  readonly listeners: JobListener[];
}

/** The submission side of the fake: records, holds jobs until told how they end. */
class FakeTarget implements SubmitTarget {
  readonly submissions: Submission[] = [];
  readonly held = new Map<string, Held>();
  readonly rules = new Map<string, FakeOutcome | ((submission: Submission) => FakeOutcome)>();
  private next = 0;

  submit(request: SubmitRequest, listener?: JobListener): SubmitOutcome {
    const handle = `H:fake:${++this.next}`;
    const payload = toBuffer(request.payload);
    const submission: Submission = {
      handle,
      functionName: request.functionName,
      payload,
      priority: request.priority ?? 'normal',
      unique: request.unique ?? '',
      background: request.background ?? false,
      runAt: request.runAt !== undefined && request.runAt > 0 ? request.runAt : undefined,
      text: () => payload.toString('utf8'),
      json: <T>() => JSON.parse(payload.toString('utf8')) as T,
    };
    this.submissions.push(submission);
    this.held.set(handle, { submission, listeners: listener === undefined ? [] : [listener] });
    const rule = this.rules.get(request.functionName);
    // After the submitter has its handle: an outcome never arrives before JOB_CREATED.
    if (rule !== undefined) {
      queueMicrotask(
        () => void this.end(handle, typeof rule === 'function' ? rule(submission) : rule),
      );
    }
    return { handle, coalesced: false };
  }

  detach(handle: string, listener: JobListener): void {
    const held = this.held.get(handle);
    if (held === undefined) return;
    const index = held.listeners.indexOf(listener);
    if (index >= 0) held.listeners.splice(index, 1);
  }

  status(handle: string): JobStatus {
    const known = this.held.has(handle);
    return { known, running: false, numerator: 0, denominator: 0 };
  }

  statusByUnique(unique: string): UniqueJobStatus {
    for (const [handle, held] of this.held) {
      if (held.submission.unique === unique && unique !== '') {
        return {
          known: true,
          running: false,
          numerator: 0,
          denominator: 0,
          clientCount: held.listeners.length,
          handle,
        };
      }
    }
    return {
      known: false,
      running: false,
      numerator: 0,
      denominator: 0,
      clientCount: 0,
      handle: undefined,
    };
  }

  close(): void {
    this.held.clear();
  }

  /** Ends a held job with `outcome`; resolves once its submitters were told. */
  async end(handle: string, outcome: FakeOutcome): Promise<void> {
    const held = this.held.get(handle);
    if (held === undefined) throw new Error(`no job ${handle} is waiting`);
    this.held.delete(handle);
    const tell = (update: JobUpdate) => {
      for (const listener of held.listeners) deliver(listener, handle, update);
    };
    if ('result' in outcome) tell({ type: 'complete', data: encodeResult(outcome.result) });
    else if ('fail' in outcome) {
      tell({ type: 'fail', reason: outcome.fail === true ? 'WORK_FAIL' : outcome.fail });
    } else if ('exception' in outcome) {
      tell({ type: 'exception', data: Buffer.from(outcome.exception, 'utf8') });
    } else {
      const run = await runJob(outcome.handler, held.submission.payload, {
        functionName: held.submission.functionName,
        handle,
        unique: held.submission.unique,
      });
      for (const report of run.reports) tell(report);
      if (run.ok) tell({ type: 'complete', data: run.result });
      else if (run.failed) tell({ type: 'fail', reason: 'WORK_FAIL' });
      else {
        const message = run.error instanceof Error ? run.error.message : String(run.error);
        tell({ type: 'exception', data: Buffer.from(message, 'utf8') });
      }
    }
  }
}

export interface FakeClientOptions extends ClientOptions {
  /** The clock `delay` is counted on, in ms. Default `Date.now`. */
  now?: () => number;
}

const FAKE_CLIENT_KEYS = knownKeys<FakeClientOptions>({ exceptions: true, now: true });

/**
 * A client for testing application code that submits jobs: the in-process client's API
 * (`submit`, `run`, `submitAll`, `runAll`, `status`, …), with every submission recorded and
 * no server. Jobs of a function given an outcome with `on()` end that way; others wait
 * until `settle()`.
 */
export class FakeClient extends ClientBase {
  private readonly target: FakeTarget;

  constructor(options: FakeClientOptions = {}) {
    checkOptions(options, 'fake client options', FAKE_CLIENT_KEYS);
    const target = new FakeTarget();
    super(target, options.now ?? (() => Date.now()), options);
    this.target = target;
  }

  /** Every submission, in order. */
  get submissions(): readonly Submission[] {
    return this.target.submissions;
  }

  /** Submissions of one function (all without a name). */
  submitted(functionName?: string): Submission[] {
    return this.target.submissions.filter(
      (s) => functionName === undefined || s.functionName === functionName,
    );
  }

  /** The latest submission (of one function). */
  last(functionName?: string): Submission | undefined {
    return this.submitted(functionName).at(-1);
  }

  /** The first submission that matches. */
  find(test: (submission: Submission) => boolean): Submission | undefined {
    return this.target.submissions.find(test);
  }

  /** Submissions whose job has not ended yet. */
  pending(): Submission[] {
    return [...this.target.held.values()].map((h) => h.submission);
  }

  /** Jobs of `functionName` submitted from now on end with `outcome` (or what it returns). */
  on(functionName: string, outcome: FakeOutcome | ((submission: Submission) => FakeOutcome)): this {
    this.target.rules.set(functionName, outcome);
    return this;
  }

  /** Ends a waiting job (by handle, or the oldest waiting one of a function). */
  settle(job: string | { functionName: string }, outcome: FakeOutcome): Promise<void> {
    const handle =
      typeof job === 'string'
        ? job
        : this.pending().find((s) => s.functionName === job.functionName)?.handle;
    if (handle === undefined) {
      return Promise.reject(
        new Error(`no waiting job of ${(job as { functionName: string }).functionName}`),
      );
    }
    return this.target.end(handle, outcome);
  }

  /** Forgets every submission and outcome rule. */
  reset(): void {
    this.target.submissions.length = 0;
    this.target.held.clear();
    this.target.rules.clear();
  }
}

/** Creates a fake client (see {@link FakeClient}). */
export function createFakeClient(options: FakeClientOptions = {}): FakeClient {
  return new FakeClient(options);
}
